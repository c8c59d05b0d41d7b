/**
 * A capture that runs until stopped hands over to a new run (continue-as-new) when the server
 * suggests it, keeping its snapshot id, start time and processes; teardown runs only once,
 * at the real end. The dev server suggests it after a few dozen events here.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { captureWorkflow, progressQuery, stopSignal } from '../../workflows/capture.js';
import { startHarness, TASK_QUEUE, workflowId, type WorkflowHarness } from './harness.js';
import { waitFor } from './loopback.js';
import { CaptureRuntimeDouble } from './capture-runtime-double.js';

const runtime = new CaptureRuntimeDouble();
let h: WorkflowHarness;

before(async () => {
  h = await startHarness({
    runtime,
    serverArgs: ['--dynamic-config-value', 'limit.historyCount.suggestContinueAsNew=40'],
  });
});
after(() => h?.close());

describe('captureWorkflow, long-running', () => {
  it('continues as new with the same snapshot and processes, and tears down once at the end', async () => {
    const first = await h.client.workflow.start(captureWorkflow, {
      taskQueue: TASK_QUEUE,
      workflowId: workflowId('long'),
      args: [{ service: 'long', target: { appPort: 8080 } }],
    });
    const before = await waitFor('capturing', async () => {
      const p = await first.query(progressQuery);
      return p.phase === 'capturing' && p;
    });
    const latest = h.client.workflow.getHandle(first.workflowId);
    await waitFor(
      'a continue-as-new',
      async () => (await latest.describe()).runId !== first.firstExecutionRunId,
      60_000,
    );
    const after = await waitFor('the new run to capture', async () => {
      const p = await latest.query(progressQuery);
      return p.phase === 'capturing' && p;
    });
    assert.equal(after.snapshotId, before.snapshotId);
    assert.equal(after.startedAt, before.startedAt);

    await latest.signal(stopSignal);
    const result = await latest.result();
    assert.equal(result.snapshotId, before.snapshotId);
    assert.equal(result.startedAt, before.startedAt);
    const steps = runtime.steps();
    assert.equal(steps.filter((s) => s === 'openRecording').length, 1, 'the recording is opened once');
    assert.ok(steps.filter((s) => s === 'enableCapture').length >= 2, 'each run makes sure capture is on');
    assert.deepEqual(steps.slice(steps.indexOf('disableCapture')), [
      'disableCapture',
      'sealSnapshot',
      'teardown',
    ]);
    assert.ok(!steps.includes('abortRecording'));
  });
});
