import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { FsSnapshotStore } from '../../src/store/fs-store.js';
import { outbound, viaProxy } from './fixtures.js';
import { textBody } from '../../tools/fixtures/pairs.js';

const WORKER = fileURLToPath(new URL('../../workers/responder.js', import.meta.url));

function run(args: string[]): { child: ChildProcess; lines: AsyncIterator<string> } {
  const child = spawn(process.execPath, [WORKER, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  return { child, lines };
}

async function failure(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const { child } = run(args);
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const [code] = await once(child, 'exit');
  return { code, stderr };
}

describe('responder process', () => {
  let home: string;
  const snapshotId = 'snap-responder-worker';

  before(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'reprise-responder-worker-'));
    const writer = await new FsSnapshotStore(home).createWriter({
      id: snapshotId,
      service: 'orders',
      source: 'capture',
    });
    await writer.append(outbound({ path: '/v1/a', responseBody: textBody('first') }));
    await writer.append(outbound({ path: '/v1/a', responseBody: textBody('second') }));
    await writer.append(outbound({ path: '/v1/b', responseBody: textBody('b') }));
    await writer.seal();
  });
  after(() => rm(home, { recursive: true, force: true }));

  it('prints a ready line, answers, and prints its stats when stopped', async () => {
    const config = path.join(home, 'responder.yaml');
    await writeFile(config, 'exhausted: cycle\n');
    const { child, lines } = run([
      '--snapshot',
      snapshotId,
      '--home',
      home,
      '--port',
      '0',
      '--config',
      config,
    ]);
    const ready = JSON.parse((await lines.next()).value);
    assert.deepEqual(
      { event: ready.event, pid: ready.pid, signatures: ready.signatures, responses: ready.responses },
      { event: 'ready', pid: child.pid, signatures: 2, responses: 3 },
    );
    assert.ok(ready.port > 0);
    assert.equal(ready.caCert, path.join(home, 'ca', 'ca.pem'));

    const bodies = [];
    for (let i = 0; i < 3; i++) bodies.push((await viaProxy(ready.port, 'http://api.example.com/v1/a')).body);
    assert.deepEqual(bodies, ['first', 'second', 'first'], '--config exhausted: cycle');
    assert.equal((await viaProxy(ready.port, 'http://api.example.com/v1/zzz')).status, 404);

    child.kill('SIGTERM');
    const stopped = JSON.parse((await lines.next()).value);
    assert.equal(stopped.event, 'stopped');
    assert.equal(stopped.stats.match, 3);
    assert.equal(stopped.stats.noMatch, 1);
    assert.equal(stopped.stats.misses[0].signature, 'GET api.example.com/v1/zzz');
    const [code] = child.exitCode === null ? await once(child, 'exit') : [child.exitCode];
    assert.equal(code, 0);
  });

  it('exits 2 naming the flag when a flag is bad', async () => {
    const cases: [string[], RegExp][] = [
      [['--home', home], /--snapshot: required/],
      [['--snapshot', snapshotId, '--home', home, '--port', 'abc'], /--port: expected an integer/],
      [['--snapshot', snapshotId, '--home', home, '--latency', 'fast'], /--latency: expected none, recorded/],
      [['--snapshot', snapshotId, '--home', home, '--miss-policy', 'ignore'], /--miss-policy: expected 404/],
      [['--snapshot', 'snap-missing', '--home', home], /--snapshot: snapshot "snap-missing" not found/],
      [['--snapshot', snapshotId, '--bogus'], /bogus/],
    ];
    for (const [args, message] of cases) {
      const { code, stderr } = await failure(args);
      assert.equal(code, 2, `${args.join(' ')}: ${stderr}`);
      assert.match(stderr, message);
    }
  });
});
