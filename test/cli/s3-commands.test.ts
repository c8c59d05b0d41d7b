/**
 * The CLI against the S3 store: `snapshot import/ls/show/export/rm` (HAR in and out) and
 * `replay` through the real bin with REPRISE_STORE=s3://..., a real versitygw server, a real
 * Temporal dev server and the orchestrator worker; and the errors of a malformed setting.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openSnapshotStore } from '../../src/store/open.js';
import { startDevServer, type DevServer } from '../../src/temporal/dev-server.js';
import { startInProcessWorker, type InProcessWorker } from '../../workers/orchestrator.js';
import { runCli } from '../helpers/cli.js';
import { startCountingApp, writeItemsSnapshot, type CountingApp } from '../helpers/replay-fixtures.js';
import { TestS3Server } from '../../tools/versitygw.js';

const harFile = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../test/fixtures/har/mitmproxy.har',
);

let s3: TestS3Server;
let server: DevServer;
let worker: InProcessWorker;
let app: CountingApp;
let home: string;
const env = () => ({ TEMPORAL_ADDRESS: server.address, REPRISE_HOME: home });

before(async () => {
  home = await mkdtemp(path.join(tmpdir(), 'reprise-cli-s3-'));
  s3 = await TestS3Server.start();
  // The worker below runs in this process: it reads the store settings from here.
  Object.assign(process.env, s3.env('cli'));
  server = await startDevServer({ headless: true });
  worker = await startInProcessWorker({ address: server.address, namespace: server.namespace, home });
  app = await startCountingApp();
});

after(async () => {
  await worker?.stop();
  await server?.stop();
  await app?.close();
  await s3?.close();
});

test('snapshot import, ls, show, export and rm work on a snapshot kept in the bucket', async () => {
  const har = JSON.parse(await readFile(harFile, 'utf8')) as { log: { entries: unknown[] } };
  const imported = await runCli(['snapshot', 'import', harFile, '--service', 'shop', '--json'], env());
  assert.equal(imported.code, 0, imported.stderr);
  const { snapshotId, pairs } = JSON.parse(imported.stdout);
  assert.equal(pairs, har.log.entries.length);
  assert.equal(existsSync(path.join(home, 'snapshots')), false, 'nothing went to the local disk');
  assert.equal((await openSnapshotStore(home).getManifest(snapshotId)).source, 'har-import');

  const ls = await runCli(['snapshot', 'ls', '--json'], env());
  assert.equal(ls.code, 0, ls.stderr);
  assert.deepEqual(
    JSON.parse(ls.stdout).map((m: { id: string }) => m.id),
    [snapshotId],
  );
  const show = await runCli(['snapshot', 'show', snapshotId], env());
  assert.equal(show.code, 0, show.stderr);
  assert.match(show.stdout, new RegExp(`Snapshot ${snapshotId}`));

  const out = path.join(home, 'out.har');
  const exported = await runCli(['snapshot', 'export', snapshotId, '--har', '-o', out], env());
  assert.equal(exported.code, 0, exported.stderr);
  const back = JSON.parse(await readFile(out, 'utf8')) as {
    log: { entries: { request: { url: string } }[] };
  };
  assert.equal(back.log.entries.length, har.log.entries.length);
  assert.equal(back.log.entries[0].request.url, 'http://localhost:8080/api/login?next=/account');

  const rm = await runCli(['snapshot', 'rm', snapshotId], env());
  assert.equal(rm.code, 0, rm.stderr);
  assert.deepEqual(JSON.parse((await runCli(['snapshot', 'ls', '--json'], env())).stdout), []);
  const gone = await runCli(['snapshot', 'show', snapshotId], env());
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, new RegExp(`${snapshotId}.*not found in s3://reprise/cli/snapshots/`));
});

test('replay runs a snapshot kept in the bucket and reports locally', async () => {
  const snapshotId = await writeItemsSnapshot(home, 20, openSnapshotStore(home));
  const res = await runCli(
    ['replay', snapshotId, '--target', app.url, '--connections', '3', '--json'],
    env(),
  );
  assert.equal(res.code, 0, res.stderr);
  const out = JSON.parse(res.stdout);
  assert.equal(out.verdict, 'Passed');
  assert.equal(out.requests, 20);
  for (let i = 1; i <= 20; i++) assert.equal(app.hits.get(`/items/${i}`), 1, `/items/${i}`);
  const show = await runCli(['report', 'show', out.replayId, '--json'], env());
  assert.equal(show.code, 0, show.stderr);
  assert.equal(JSON.parse(show.stdout).summary.requests, 20);
});

test('a malformed REPRISE_STORE or REPRISE_S3_ENDPOINT fails with exit 2, naming it', async () => {
  const badStore = await runCli(['snapshot', 'ls'], { ...env(), REPRISE_STORE: 's3:/bucket' });
  assert.equal(badStore.code, 2);
  assert.match(badStore.stderr, /REPRISE_STORE: expected s3:\/\/BUCKET or s3:\/\/BUCKET\/PREFIX/);
  const badEndpoint = await runCli(['snapshot', 'ls'], { ...env(), REPRISE_S3_ENDPOINT: '127.0.0.1:9000' });
  assert.equal(badEndpoint.code, 2);
  assert.match(badEndpoint.stderr, /REPRISE_S3_ENDPOINT: expected the server's base URL/);
});
