/**
 * The TrafficReplay controller end to end: a real API server (the dev cluster), a real Temporal
 * dev server with the production orchestrator worker (local runtime: the target is a loopback
 * app reached by customURL, no workload), and the operator process. A TrafficReplay becomes a
 * replayWorkflow whose id is the resource's uid, its outcome lands in status, and deleting it
 * cancels the workflow; the finalizer goes only once the workflow (and its teardown) finished.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { ReplayResult } from '../../src/config/replay.js';
import { TRAFFIC_REPLAY } from '../../src/kube/api/annotations.js';
import type { DevCluster } from '../../tools/dev-cluster/index.js';
import type { TrafficReplay } from '../../src/kube/api/traffic-replay.js';
import type { CountingApp } from '../helpers/replay-fixtures.js';
import { waitFor } from '../workflows/loopback.js';
import {
  apply,
  getJson,
  startControllerOperator,
  type WebhookProcess,
  trafficReplayYaml as replay,
} from './operator-harness.js';
import { startControllerBed, type ControllerBed } from './controller-bed.js';

describe('TrafficReplay controller with Temporal', { timeout: 600_000 }, () => {
  let bed: ControllerBed;
  let cluster: DevCluster;
  let temporal: TestWorkflowEnvironment;
  let operator: WebhookProcess;
  let app: CountingApp;
  let snapshotId: string;
  let startOperator: () => Promise<WebhookProcess>;

  before(async () => {
    bed = await startControllerBed('reprise-controller-');
    ({ cluster, temporal, snapshotId, app } = bed);
    const { tlsDir } = bed;
    startOperator = () => startControllerOperator(tlsDir, cluster, temporal);
    operator = await startOperator();
  });

  after(async () => {
    await operator?.stop();
    await bed?.stop();
  });

  const get = (name: string) => getJson<TrafficReplay>(cluster, ['trafficreplay', name]);

  it('a TrafficReplay becomes a workflow with id = uid, and its outcome appears in status', async () => {
    await apply(
      cluster,
      replay('quick', {
        snapshotId,
        mode: 'generator-only',
        workloads: [{ customURL: app.url, mocks: [] }],
        load: { connections: 1 },
        goals: { successRate: 100 },
      }),
    );
    const done = await waitFor(
      'a verdict on the TrafficReplay',
      async () => {
        const r = await get('quick');
        return r.status?.verdict ? r : undefined;
      },
      180_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\noperator log:\n${operator.logs()}`);
    });
    const uid = done.metadata.uid!;
    assert.equal(done.status?.workflowId, uid);
    const handle = temporal.client.workflow.getHandle(uid);
    const description = await handle.describe();
    assert.equal(description.type, 'replayWorkflow');
    const result = (await handle.result()) as ReplayResult;

    assert.equal(done.status?.verdict, 'Passed', JSON.stringify(done.status));
    assert.equal(done.status?.phase, 'Passed');
    assert.equal(done.status?.active, false);
    assert.equal(done.status?.reportPath, result.reportPath);
    assert.ok(existsSync(result.reportPath), 'the report is on disk');
    assert.equal(done.status?.reportId, result.replayId);
    assert.ok(done.status?.startedTime && done.status.finishedTime);
    assert.equal(done.status?.observedGeneration, done.metadata.generation);
    const ready = done.status?.conditions?.find((c) => c.type === 'Ready');
    assert.deepEqual([ready?.status, ready?.reason], ['True', 'TestSucceeded']);
    const mocks = done.status?.conditions?.find((c) => c.type === 'MocksReady');
    assert.deepEqual([mocks?.status, mocks?.reason], ['False', 'MocksDisabled']);
    assert.ok(done.metadata.finalizers?.includes(TRAFFIC_REPLAY.finalizer));
    for (const i of [1, 2, 3]) assert.equal(app.hits.get(`/items/${i}`), 1, `/items/${i} replayed once`);

    // kubectl shows it the way the CRD's printer columns say.
    const table = await cluster.kubectl(['get', 'replay', 'quick']);
    assert.match(table.stdout, /quick\s+Passed\s+generator-only\s+Passed/);
  });

  it('a restarted operator finds the same workflow; deleting cancels it and the finalizer goes after teardown', async () => {
    await apply(
      cluster,
      replay('long', {
        snapshotId,
        mode: 'generator-only',
        workloads: [{ customURL: app.url }],
        load: { connections: 1, rate: 5, duration: '10m' },
      }),
    );
    const testing = await waitFor(
      'the long replay to be Testing with requests sent',
      async () => {
        const r = await get('long');
        return r.status?.phase === 'Testing' && (r.status.progress?.sent ?? 0) > 0 ? r : undefined;
      },
      180_000,
    );
    const uid = testing.metadata.uid!;
    const handle = temporal.client.workflow.getHandle(uid);
    const { runId } = await handle.describe();

    // A new operator process: it must attach to the running workflow, not start another.
    await operator.stop();
    operator = await startOperator();
    await waitFor(
      'the new operator to report progress again',
      async () => ((await get('long')).status?.progress?.sent ?? 0) > (testing.status?.progress?.sent ?? 0),
      60_000,
    );
    assert.equal((await handle.describe()).runId, runId, 'still the first run');

    const del = await cluster.kubectl(['delete', 'trafficreplay', 'long', '--wait=false']);
    assert.equal(del.code, 0, del.stderr);
    await waitFor(
      'the deleted TrafficReplay to be gone',
      async () => (await cluster.kubectl(['get', 'trafficreplay', 'long'])).code !== 0,
      180_000,
    );
    // Gone means the finalizer went, which the controller does only once the workflow closed.
    const closed = await handle.describe();
    assert.notEqual(closed.status.name, 'RUNNING');
    assert.equal(closed.runId, runId);
    const result = (await handle.result()) as ReplayResult;
    assert.equal(result.verdict, 'Canceled');
  });
});
