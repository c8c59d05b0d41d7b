/**
 * replayWorkflow through a real Temporal dev server with the Kubernetes runtime, against a
 * Deployment on a real API server: whether the replay ends (here as Error: KWOK runs no
 * generator, so no summary comes back) or is cancelled mid-run, every object it created is gone
 * afterwards and the workload's spec is what it was, byte for byte.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { replaySelector } from '../../activities/kube/common.js';
import { KubeApi } from '../../src/kube/client/api.js';
import type { DevCluster } from '../../tools/dev-cluster/index.js';
import type { ReplayInputText, ReplayResult } from '../../src/config/replay.js';
import { TASK_QUEUE, workflowId, type WorkflowHarness } from '../workflows/harness.js';
import { APP_NS, labelled, OWN_NS, startKubeReplayStage, workloadJson } from './runtime-fixtures.js';

describe('replayWorkflow on the Kubernetes runtime', () => {
  let cluster: DevCluster;
  let api: KubeApi;
  let harness: WorkflowHarness;
  let snapshotId: string;
  let specBefore: string;

  before(async () => {
    const home = await mkdtemp(path.join(tmpdir(), 'reprise-kube-wf-'));
    ({ cluster, api, harness, snapshotId, specBefore } = await startKubeReplayStage(home));
  });
  after(async () => {
    await harness?.close();
    await cluster?.stop();
  });

  const input = (replayId: string, extra: Partial<ReplayInputText> = {}): ReplayInputText => ({
    snapshotId,
    replayId,
    target: { workload: { name: 'orders', namespace: APP_NS } },
    timeout: '3m',
    ...extra,
  });

  async function assertNothingLeft(replayId: string) {
    assert.deepEqual(await labelled(api, [OWN_NS, APP_NS], replaySelector(replayId)), []);
    assert.equal(JSON.stringify((await workloadJson(api, APP_NS, 'orders')).spec), specBefore);
  }

  it('ends as Error without a generator summary, with everything it created gone and the workload restored', async () => {
    const replayId = 'wf-kube-done';
    const result = await harness.client.workflow.execute('replayWorkflow', {
      taskQueue: TASK_QUEUE,
      workflowId: workflowId(replayId),
      args: [input(replayId)],
    });
    const r = result as ReplayResult;
    assert.equal(r.verdict, 'Error');
    const report = await readFile(path.join(path.dirname(r.reportPath), 'report.json'), 'utf8');
    assert.match(report, /the generator Job finished without a summary/);
    await assertNothingLeft(replayId);
  });

  it('cancelled mid-run, it still tears down: nothing left, the workload restored', async () => {
    const replayId = 'wf-kube-cancel';
    // responder-only keeps the replay in its Testing phase until cancelled.
    const handle = await harness.client.workflow.start('replayWorkflow', {
      taskQueue: TASK_QUEUE,
      workflowId: workflowId(replayId),
      args: [input(replayId, { mode: 'responder-only', responderDuration: '10m' })],
    });
    for (const deadline = Date.now() + 120_000; ; await delay(250)) {
      if ((await handle.query<string>('phase')) === 'Testing') break;
      assert.ok(Date.now() < deadline, 'the replay reached Testing within 120 s');
    }
    // Mid-run: the workload is routed to the responder right now.
    assert.notEqual(JSON.stringify((await workloadJson(api, APP_NS, 'orders')).spec), specBefore);
    await handle.cancel();
    await assert.rejects(handle.result(), WorkflowFailedError);
    await assertNothingLeft(replayId);
  });
});
