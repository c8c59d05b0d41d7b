/** The forwarder process: flags, ready line, SIGTERM aborts what was never sealed. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { FsSnapshotStore } from '../../src/store/fs-store.js';
import { makePair } from '../../tools/fixtures/pairs.js';

const WORKER = fileURLToPath(new URL('../../workers/forwarder.js', import.meta.url));

function startWorker(args: string[]) {
  const child = spawn(process.execPath, [WORKER, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const next = async () => JSON.parse(((await lines.next()).value as string) ?? 'null');
  return { child, next, stderr: () => stderr };
}

describe('forwarder worker process', () => {
  let home: string;
  before(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'reprise-fwd-worker-'));
  });
  after(() => rm(home, { recursive: true, force: true }));

  it('prints ready, serves, and on SIGTERM aborts open recordings, prints stopped, exits 0', async () => {
    const rules = path.join(home, 'dlp.yaml');
    await writeFile(rules, 'detectors: [email]\nheaders: [authorization]\n');
    const w = startWorker(['--port', '0', '--home', home, '--dlp', rules, '--max-batch-bytes', '1MiB']);
    const ready = await w.next();
    assert.equal(ready.event, 'ready', w.stderr());
    assert.equal(ready.pid, w.child.pid);
    const url = `http://127.0.0.1:${ready.port}`;
    const post = (p: string, body: string) => fetch(url + p, { method: 'POST', body });
    assert.equal(
      (await post('/v1/recordings', JSON.stringify({ snapshotId: 'snap-kept', service: 'orders' }))).status,
      201,
    );
    assert.equal(
      (await post('/v1/recordings', JSON.stringify({ snapshotId: 'snap-open', service: 'orders' }))).status,
      201,
    );
    const batch = JSON.stringify(makePair({ query: [['email', 'w@example.com']] })) + '\n';
    assert.equal((await post('/v1/pairs', batch)).status, 202);
    assert.equal((await post('/v1/recordings/snap-kept/seal', '')).status, 200);

    w.child.kill('SIGTERM');
    const stopped = await w.next();
    assert.equal(stopped.event, 'stopped');
    assert.deepEqual(stopped.aborted, ['snap-open']);
    const [code] = await once(w.child, 'exit');
    assert.equal(code, 0);

    const store = new FsSnapshotStore(home);
    assert.equal(await store.exists('snap-kept'), true);
    assert.equal(await store.exists('snap-open'), false);
    const manifest = await store.getManifest('snap-kept');
    assert.deepEqual((manifest.dlp as { detectors: string[] }).detectors, ['email']);
  });

  it('refuses bad flags and bad rule files with exit code 2 and a message', async () => {
    const bad = path.join(home, 'bad-filters.json');
    await writeFile(bad, '{"exclude":[{"status":"nope"}]}');
    for (const [args, message] of [
      [['--filters', bad], /bad-filters\.json: exclude\.0\.status/],
      [['--port', 'x'], /--port/],
      [['--dlp', bad, '--no-dlp'], /exclusive/],
      [['--max-batch-bytes', 'lots'], /--max-batch-bytes/],
      [['--ingest-threads', 'many'], /--ingest-threads: expected 0-64/],
    ] as const) {
      const w = startWorker(['--home', home, ...args]);
      const [code] = await once(w.child, 'exit');
      assert.equal(code, 2, args.join(' '));
      assert.match(w.stderr(), message);
    }
  });
});
