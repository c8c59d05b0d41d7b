/**
 * Many generators, one report (load.replicas): real generator processes started by the local
 * runtime under a real Temporal dev server, against a counting app. Split four ways, every
 * recorded request reaches the app exactly once and the report has one row per replica; a
 * replica that fails is named in the verdict while the other three's traffic stands.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { startDevServer, type DevServer } from '../../src/temporal/dev-server.js';
import { TASK_QUEUE } from '../../src/temporal/names.js';
import { observedFile } from '../../src/base/paths.js';
import type { ReplayResult } from '../../src/config/replay.js';
import type { Report } from '../../src/report/schema.js';
import { startInProcessWorker, type InProcessWorker } from '../../workers/orchestrator.js';
import { runCli } from '../helpers/cli.js';
import { startCountingApp, writeItemsSnapshot, type CountingApp } from '../helpers/replay-fixtures.js';

const REQUESTS = 60;
let server: DevServer;
let worker: InProcessWorker;
let client: Client;
let app: CountingApp;
let home: string;
let snapshotId: string;

before(async () => {
  home = await mkdtemp(path.join(tmpdir(), 'reprise-replicas-'));
  server = await startDevServer({ headless: true });
  worker = await startInProcessWorker({ address: server.address, namespace: server.namespace, home });
  client = new Client({ connection: await Connection.connect({ address: server.address }) });
  app = await startCountingApp();
  snapshotId = await writeItemsSnapshot(home, REQUESTS);
});

after(async () => {
  await client?.connection.close();
  await worker?.stop();
  await server?.stop();
  await app?.close();
});

const readReport = async (reportPath: string) =>
  JSON.parse(await readFile(path.join(path.dirname(reportPath), 'report.json'), 'utf8')) as Report;

test('replay --replicas 4 sends every recorded request exactly once and reports one row per replica', async () => {
  app.hits.clear();
  const run = await runCli(
    [
      'replay',
      snapshotId,
      '--target',
      app.url,
      '--replicas',
      '4',
      '--connections',
      '4',
      '--rate',
      '40',
      '--json',
    ],
    { TEMPORAL_ADDRESS: server.address, REPRISE_HOME: home },
  );
  assert.equal(run.code, 0, run.stderr);
  const result = JSON.parse(run.stdout) as ReplayResult;
  assert.equal(result.verdict, 'Passed');
  assert.equal(result.requests, REQUESTS);
  for (let i = 1; i <= REQUESTS; i++) assert.equal(app.hits.get(`/items/${i}`), 1, `/items/${i}`);
  assert.equal(app.hits.size, REQUESTS);

  const report = await readReport(result.reportPath);
  assert.deepEqual(
    report.replicas?.map((r) => [r.replica, r.requests, r.errors, r.failure]),
    [
      ['1/4', 15, 0, undefined],
      ['2/4', 15, 0, undefined],
      ['3/4', 15, 0, undefined],
      ['4/4', 15, 0, undefined],
    ],
  );
  // Each replica paced its quarter of the rate: 15 requests at 10/s take over a second.
  for (const r of report.replicas!)
    assert.ok(r.rps > 0 && r.rps <= 11, `replica ${r.replica}: ${r.rps} req/s`);
  // The merged histograms: every response counted, the percentiles ordered.
  assert.equal(report.summary.responses, REQUESTS);
  assert.ok(
    report.latency.p50 > 0 && report.latency.p50 <= report.latency.p99,
    JSON.stringify(report.latency),
  );
  assert.ok(report.latency.p99 <= report.latency.max);
  const html = await readFile(result.reportPath, 'utf8');
  assert.match(html, /id="replicas"/);
  assert.match(html, /data-replica="4\/4"/);
});

test("a replica that loses its results is named in the verdict; the other replicas' traffic is reported", async () => {
  app.hits.clear();
  const replayId = `replicas-broken-${Date.now()}`;
  // Replica 2 sends its shard but cannot keep what it observed: a folder is where that file goes.
  await mkdir(observedFile(home, replayId, 1), { recursive: true });
  const handle = await client.workflow.start('replayWorkflow', {
    taskQueue: TASK_QUEUE,
    workflowId: replayId,
    args: [
      {
        replayId,
        snapshotId,
        target: { url: app.url },
        mode: 'generator-only',
        load: { replicas: 4, connections: 4 },
      },
    ],
  });
  const result = (await handle.result()) as ReplayResult;
  assert.equal(result.verdict, 'Error');
  const report = await readReport(result.reportPath);
  assert.match(report.verdictReason, /generator replica 2\/4 failed/);
  assert.deepEqual(
    report.replicas?.map((r) => [r.replica, r.requests, r.failure !== undefined]),
    [
      ['1/4', 15, false],
      ['2/4', 0, true],
      ['3/4', 15, false],
      ['4/4', 15, false],
    ],
  );
  // Only the three finished replicas' traffic is analysed; replica 2's shard (pairs 2, 6, 10, ...)
  // went out but was not sent again by a retry: every request reached the app once.
  assert.equal(report.summary.requests, 45);
  assert.equal(
    report.endpoints.reduce((n, e) => n + e.requests, 0),
    45,
  );
  for (let i = 1; i <= REQUESTS; i++) assert.equal(app.hits.get(`/items/${i}`), 1, `/items/${i}`);
});
