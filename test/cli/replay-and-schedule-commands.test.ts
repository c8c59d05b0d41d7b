/**
 * `reprise replay`, `replay ls`, `report show` and `schedule ...` through the real bin, against
 * a real Temporal dev server (TEMPORAL_ADDRESS) served by a real orchestrator worker.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { startDevServer, type DevServer } from '../../src/temporal/dev-server.js';
import { startInProcessWorker, type InProcessWorker } from '../../workers/orchestrator.js';
import type { RegressionResult } from '../../src/config/replay.js';
import { REPLAY_JSON_KEYS, runCli } from '../helpers/cli.js';
import { startCountingApp, writeItemsSnapshot, type CountingApp } from '../helpers/replay-fixtures.js';

let server: DevServer;
let worker: InProcessWorker;
let client: Client;
let app: CountingApp;
let home: string;
let snapshotId: string;
const env = () => ({ TEMPORAL_ADDRESS: server.address, REPRISE_HOME: home });

before(async () => {
  home = await mkdtemp(path.join(tmpdir(), 'reprise-cli-replay-'));
  server = await startDevServer({ headless: true });
  worker = await startInProcessWorker({ address: server.address, namespace: server.namespace, home });
  client = new Client({ connection: await Connection.connect({ address: server.address }) });
  app = await startCountingApp();
  snapshotId = await writeItemsSnapshot(home, 20);
});

after(async () => {
  await client?.connection.close();
  await worker?.stop();
  await server?.stop();
  await app?.close();
});

test('replay --json prints exactly the contract object and exits 0 on Passed', async () => {
  const res = await runCli(
    ['replay', snapshotId, '--target', app.url, '--connections', '3', '--json'],
    env(),
  );
  assert.equal(res.code, 0, res.stderr);
  const out = JSON.parse(res.stdout);
  assert.deepEqual(Object.keys(out).sort(), REPLAY_JSON_KEYS);
  assert.equal(out.verdict, 'Passed');
  assert.equal(out.requests, 20);
  assert.deepEqual(Object.keys(out.responder).sort(), ['match', 'noMatch', 'passthrough']);
  for (let i = 1; i <= 20; i++) assert.equal(app.hits.get(`/items/${i}`), 1, `/items/${i}`);

  const ls = await runCli(['replay', 'ls', '--json'], env());
  assert.equal(ls.code, 0, ls.stderr);
  assert.ok(JSON.parse(ls.stdout).some((r: { replayId: string }) => r.replayId === out.replayId));
  const show = await runCli(['report', 'show', out.replayId, '--json'], env());
  assert.equal(show.code, 0, show.stderr);
  assert.equal(JSON.parse(show.stdout).summary.requests, 20);
});

test('replay exits 3 when goals are missed, and 2 on a bad flag naming it', async () => {
  const config = path.join(home, 'strict.yaml');
  await writeFile(config, 'goals:\n  minRps: 1000000\n');
  const missed = await runCli(
    ['replay', snapshotId, '--target', app.url, '--config', config, '--json'],
    env(),
  );
  assert.equal(missed.code, 3, missed.stderr);
  assert.equal(JSON.parse(missed.stdout).verdict, 'Missed Goals');

  const badRate = await runCli(['replay', snapshotId, '--target', app.url, '--rate', 'fast'], env());
  assert.equal(badRate.code, 2);
  assert.match(badRate.stderr, /--rate/);
  const badTarget = await runCli(['replay', snapshotId, '--target', 'not a url'], env());
  assert.equal(badTarget.code, 2);
  assert.match(badTarget.stderr, /--target/);
  const unknown = await runCli(['replay', 'snap-missing', '--target', app.url], env());
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /snap-missing.*not found/);
});

test('a replay over its timeout ends as Error with the timeout named, after teardown', async () => {
  const config = path.join(home, 'slow.yaml');
  await writeFile(config, 'timeout: 2s\nload:\n  rate: 2\n  connections: 1\n');
  const res = await runCli(['replay', snapshotId, '--target', app.url, '--config', config, '--json'], env());
  assert.equal(res.code, 1, res.stderr);
  const out = JSON.parse(res.stdout);
  assert.equal(out.verdict, 'Error');
  assert.ok(out.requests < 20, `sent ${out.requests}`);
  const report = JSON.parse((await runCli(['report', 'show', out.replayId, '--json'], env())).stdout);
  assert.match(report.verdictReason, /timeout.*2s/);
});

async function latestRegression(after: Set<string>): Promise<{ id: string; result: RegressionResult }> {
  for (let i = 0; i < 300; i++) {
    for await (const wf of client.workflow.list({ query: `WorkflowType="regressionWorkflow"` })) {
      if (after.has(wf.workflowId) || wf.status.name !== 'COMPLETED') continue;
      const result = (await client.workflow.getHandle(wf.workflowId).result()) as RegressionResult;
      return { id: wf.workflowId, result };
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('no completed regressionWorkflow run');
}

test('schedule create, ls, pause, unpause, trigger and delete drive a Temporal Schedule of regressions', async () => {
  const create = await runCli(
    [
      'schedule',
      'create',
      '--snapshot',
      snapshotId,
      '--target',
      app.url,
      '--cron',
      '0 0 1 1 *',
      '--name',
      'nightly',
      '--json',
    ],
    env(),
  );
  assert.equal(create.code, 0, create.stderr);
  assert.deepEqual(JSON.parse(create.stdout), { name: 'nightly', cron: '0 0 1 1 *', snapshotId });

  const listed = JSON.parse((await runCli(['schedule', 'ls', '--json'], env())).stdout);
  assert.equal(listed.length, 1);
  assert.equal(listed[0].name, 'nightly');
  assert.equal(listed[0].cron, '0 0 1 1 *');
  assert.equal(listed[0].paused, false);

  assert.equal((await runCli(['schedule', 'pause', 'nightly'], env())).code, 0);
  assert.equal(JSON.parse((await runCli(['schedule', 'ls', '--json'], env())).stdout)[0].paused, true);
  assert.equal((await runCli(['schedule', 'unpause', 'nightly'], env())).code, 0);

  const seen = new Set<string>();
  assert.equal((await runCli(['schedule', 'trigger', 'nightly'], env())).code, 0);
  const first = await latestRegression(seen);
  seen.add(first.id);
  assert.equal(first.result.verdict, 'Passed');
  assert.equal(first.result.baseline, 'set');

  assert.equal((await runCli(['schedule', 'trigger', 'nightly'], env())).code, 0);
  const second = await latestRegression(seen);
  assert.equal(second.result.baseline, 'compared');
  assert.equal(second.result.baselineReplayId, first.result.replay.replayId);
  assert.deepEqual(second.result.checks.map((c) => c.name).sort(), ['accuracy', 'errorRate', 'p95', 'p99']);

  assert.equal((await runCli(['schedule', 'delete', 'nightly'], env())).code, 0);
  assert.deepEqual(JSON.parse((await runCli(['schedule', 'ls', '--json'], env())).stdout), []);
  const missing = await runCli(['schedule', 'pause', 'nightly'], env());
  assert.equal(missing.code, 1);
});
