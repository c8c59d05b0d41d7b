/**
 * captureWorkflow's orchestration on a real Temporal dev server and worker, with a runtime
 * double that records what it is asked to do instead of starting processes: validation, phases,
 * search attributes, and the order of teardown on stop, failure and cancel.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { RepriseKind, RepriseService, RepriseSnapshotId } from '../../src/temporal/names.js';
import type { CaptureProgress } from '../../src/config/capture.js';
import { captureWorkflow, progressQuery, stopSignal } from '../../workflows/capture.js';
import { startHarness, TASK_QUEUE, workflowId, type WorkflowHarness } from './harness.js';
import { waitFor } from './loopback.js';
import { CaptureRuntimeDouble } from './capture-runtime-double.js';

const runtime = new CaptureRuntimeDouble();
let h: WorkflowHarness;

before(async () => {
  h = await startHarness({ runtime });
  console.log(`# server + worker started in ${h.startupMs} ms`);
});
after(() => h?.close());
beforeEach(() => runtime.reset());

const start = (input: unknown, name = 'capture') =>
  h.client.workflow.start(captureWorkflow, {
    taskQueue: TASK_QUEUE,
    workflowId: workflowId(name),
    args: [input as Parameters<typeof captureWorkflow>[0]],
  });

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await promise.then(
    () => assert.fail('the workflow should have failed'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof WorkflowFailedError, `expected WorkflowFailedError, got ${String(err)}`);
  assert.ok(err.cause instanceof ApplicationFailure, `expected ApplicationFailure, got ${String(err.cause)}`);
  return err.cause;
}

describe('captureWorkflow input validation', () => {
  for (const [name, input, field] of [
    ['a port that is not a number', { target: { appPort: 'abc' } }, 'target.appPort'],
    ['a duration users cannot write', { target: { appPort: 8080 }, duration: '5 minutes' }, 'duration'],
    ['a misspelt field', { target: { appPort: 8080 }, durations: '5m' }, 'durations'],
    ['a missing target', { service: 'checkout' }, 'target'],
    ['a snapshot id that escapes the store', { target: { appPort: 8080 }, snapshotId: '../x' }, 'snapshotId'],
  ] as const) {
    it(`fails for good on ${name}, naming ${field}, before starting anything`, async () => {
      const failure = await failureOf(start(input, 'invalid').then((handle) => handle.result()));
      assert.equal(failure.type, 'InvalidCaptureInput');
      assert.equal(failure.nonRetryable, true);
      assert.match(failure.message, new RegExp(`(^|[ ;])${field.replace('.', '\\.')}:`));
      assert.deepEqual(runtime.calls, []);
    });
  }
});

describe('captureWorkflow orchestration', () => {
  it('a timed capture stops by itself, seals, and tears down what it started', async () => {
    const handle = await start({ service: 'checkout', target: { appPort: 8080 }, duration: '3s' });
    const result = await handle.result();
    assert.equal(result.pairs, 42);
    assert.equal(result.workflowId, handle.workflowId);
    assert.match(result.snapshotId, /^snap-\d{8}-\d{6}-[0-9a-f]{6}$/);
    assert.ok(Date.parse(result.endedAt) - Date.parse(result.startedAt) >= 3_000);
    assert.deepEqual(runtime.steps(), [
      'openRecording',
      'enableCapture',
      'disableCapture',
      'sealSnapshot',
      'teardown',
    ]);
    assert.ok(runtime.calls.includes('captureProgress'), 'progress was polled while capturing');
    const progress = await handle.query(progressQuery);
    assert.equal(progress.phase, 'done');
    assert.equal(progress.pairs, 42);
  });

  it('reports live progress and stops on the stop signal; runs are findable by search attributes', async () => {
    const handle = await start({
      service: 'billing',
      target: { appPort: 8080 },
      snapshotId: 'snap-billing-1',
    });
    let progress: CaptureProgress | undefined;
    await waitFor('pairs to rise', async () => {
      progress = await handle.query(progressQuery);
      return progress.phase === 'capturing' && progress.pairs >= 2;
    });
    assert.equal(progress!.inPort, 4143);
    assert.equal(progress!.outPort, 4140);
    assert.equal(progress!.snapshotId, 'snap-billing-1');

    const attrs = (await handle.describe()).typedSearchAttributes;
    assert.equal(attrs.get(RepriseKind), 'capture');
    assert.equal(attrs.get(RepriseService), 'billing');
    assert.equal(attrs.get(RepriseSnapshotId), 'snap-billing-1');

    await handle.signal(stopSignal);
    const result = await handle.result();
    assert.equal(result.snapshotId, 'snap-billing-1');
    assert.deepEqual(runtime.steps(), [
      'openRecording',
      'enableCapture',
      'disableCapture',
      'sealSnapshot',
      'teardown',
    ]);
  });

  it('when enabling capture fails, undoes setup in reverse order and fails with the cause', async () => {
    runtime.failing = 'enableCapture';
    const handle = await start({ target: { appPort: 8080 } });
    const err = await handle.result().catch((e: unknown) => e);
    assert.ok(err instanceof WorkflowFailedError);
    assert.match(String((err.cause?.cause as Error | undefined)?.message), /enableCapture refused/);
    assert.deepEqual(runtime.steps(), [
      'openRecording',
      'enableCapture',
      'disableCapture',
      'abortRecording',
      'teardown',
    ]);
    assert.equal((await handle.query(progressQuery)).phase, 'failed');
  });

  it('when cancelled, stops the sidecar, aborts the recording and stops the forwarder, in that order', async () => {
    const handle = await start({ target: { appPort: 8080 } });
    await waitFor('capturing', async () => (await handle.query(progressQuery)).phase === 'capturing');
    await handle.cancel();
    const err = await handle.result().catch((e: unknown) => e);
    assert.ok(err instanceof WorkflowFailedError && err.cause instanceof CancelledFailure, String(err));
    assert.deepEqual(runtime.steps(), [
      'openRecording',
      'enableCapture',
      'disableCapture',
      'abortRecording',
      'teardown',
    ]);
    assert.equal((await handle.describe()).status.name, 'CANCELLED');
    assert.equal((await handle.query(progressQuery)).phase, 'canceled');
  });

  it('still tears everything down when a teardown step fails', async () => {
    runtime.failing = 'abortRecording';
    const handle = await start({ target: { appPort: 8080 } });
    await waitFor('capturing', async () => (await handle.query(progressQuery)).phase === 'capturing');
    await handle.cancel();
    await handle.result().catch(() => {});
    assert.deepEqual(runtime.steps(), [
      'openRecording',
      'enableCapture',
      'disableCapture',
      'abortRecording',
      'teardown',
    ]);
  });
});
