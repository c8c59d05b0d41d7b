/**
 * The CLI's watch of a running workflow, on a real Temporal dev server and worker (the capture
 * runtime is the recording double): progress is queried one call at a time, and the watch returns
 * only once no call of its own is in flight, so the command may close its connection at once.
 * A call still retrying after the close threw "Channel has been shut down" outside any await and
 * failed `reprise capture` after the snapshot was sealed.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { captureWorkflow } from '../../workflows/capture.js';
import type { CaptureProgress } from '../../src/config/capture.js';
import { PROGRESS_EVERY_MS, watchWorkflow } from '../../cli/watch.js';
import { startHarness, TASK_QUEUE, workflowId, type WorkflowHarness } from '../workflows/harness.js';
import { CaptureRuntimeDouble } from '../workflows/capture-runtime-double.js';

let h: WorkflowHarness;
before(async () => {
  h = await startHarness({ runtime: new CaptureRuntimeDouble() });
});
after(() => h?.close());

/** The handle's progress query, each one held back longer than the polling period. */
function slowQueries(handle: WorkflowHandle, delayMs: number) {
  const seen = { sent: 0, inFlight: 0, most: 0 };
  const query = handle.query.bind(handle);
  handle.query = (async (...args: Parameters<typeof query>) => {
    seen.sent++;
    seen.most = Math.max(seen.most, ++seen.inFlight);
    try {
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      return await query(...args);
    } finally {
      seen.inFlight--;
    }
  }) as typeof handle.query;
  return seen;
}

test('a watch queries progress one call at a time and returns with none in flight', async () => {
  // A connection of the command's own, closed right after the watch as the CLI closes it.
  const connection = await Connection.connect({ address: h.env.connection.options.address });
  const client = new Client({ connection, namespace: h.env.namespace ?? 'default' });
  const handle = await client.workflow.start(captureWorkflow, {
    taskQueue: TASK_QUEUE,
    workflowId: workflowId('watched'),
    args: [{ service: 'watched', target: { appPort: 8080 }, duration: '6s' }],
  });
  const seen = slowQueries(handle, 3 * PROGRESS_EVERY_MS);
  const progress: CaptureProgress[] = [];
  const result = await watchWorkflow<{ pairs: number }, CaptureProgress>(handle, {
    what: 'capture',
    link: handle.workflowId,
    stopSignal: 'stop',
    stopNotice: 'stopping',
    onProgress: (p) => progress.push(p),
    render: (p) => p.phase,
  });
  assert.equal(seen.inFlight, 0, 'a progress query was still in flight when the watch returned');
  assert.equal(seen.most, 1, `${seen.most} progress queries were in flight at once`);
  assert.ok(seen.sent >= 2, `only ${seen.sent} progress queries in a 6 s capture`);
  assert.ok(progress.length >= 1 && progress.every((p) => typeof p.phase === 'string'));
  assert.ok(result.pairs > 0);
  await connection.close();
});
