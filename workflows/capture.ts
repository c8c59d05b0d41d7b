/**
 * captureWorkflow: record a service's traffic into a snapshot.
 *
 * open the recording -> enable capture -> wait for the duration or the `stop` signal (polling
 * counts for the `progress` query) -> disable capture (the sidecar drains) -> seal.
 * Whatever happens (stop, failure, cancel), teardown runs in reverse order of setup, outside
 * cancellation, so no process or port is left behind. Orchestration only: no I/O here.
 */
import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  isCancellation,
  log,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { CaptureActivities } from '../activities/capture.js';
import type { CaptureCounts, CaptureEndpoints, CaptureRef, RecordingHandle } from '../activities/runtime.js';
import {
  captureDurationMs,
  CaptureInputError,
  validateCaptureInput,
  type CaptureConfig,
  type CaptureInput,
  type CapturePhase,
  type CaptureProgress,
  type CaptureResult,
} from '../src/config/capture.js';
import { RepriseKind, RepriseService, RepriseSnapshotId } from '../src/temporal/names.js';

/** Starting or stopping one process, or one call to it. Waits for a cancelled start to undo itself. */
const CONTROL: ActivityOptions = {
  startToCloseTimeout: '2m',
  heartbeatTimeout: '10s',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '15s', maximumAttempts: 5 },
};
/** Sealing streams the rest of the snapshot to disk and fsyncs it. */
const SEAL: ActivityOptions = { ...CONTROL, startToCloseTimeout: '10m' };
/** Teardown keeps trying longer: a leftover process holds the user's port. */
const TEARDOWN: ActivityOptions = { ...CONTROL, retry: { ...CONTROL.retry, maximumAttempts: 10 } };
/** A progress poll is a quick read; a failed one is skipped, the next comes soon. */
const PROGRESS: ActivityOptions = { startToCloseTimeout: '5s', retry: { maximumAttempts: 1 } };
/** Polls every 2 s at first, then slower (elapsed / 60, at most 30 s) to keep the history short. */
const POLL_MIN_MS = 2_000;
const POLL_MAX_MS = 30_000;

const control = proxyActivities<CaptureActivities>(CONTROL);
const { sealSnapshot } = proxyActivities<CaptureActivities>(SEAL);
const teardown = proxyActivities<CaptureActivities>(TEARDOWN);
const { captureProgress } = proxyActivities<CaptureActivities>(PROGRESS);

/** State carried across continue-as-new, so a long capture keeps its processes and recording. */
export interface CaptureResume {
  snapshotId: string;
  startedAt: string;
  recording: RecordingHandle;
}

export const stopSignal = defineSignal('stop');
export const progressQuery = defineQuery<CaptureProgress>('progress');

/** Same shape as newSnapshotId() (src/base/new-id.ts), from the workflow's deterministic clock and random. */
function newSnapshotId(): string {
  const t = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `snap-${t}-${uuid4().slice(0, 6)}`;
}

function validate(input: CaptureInput): CaptureConfig {
  try {
    return validateCaptureInput(input);
  } catch (err) {
    if (err instanceof CaptureInputError) {
      throw ApplicationFailure.nonRetryable(err.message, 'InvalidCaptureInput', { fields: err.fields });
    }
    throw err;
  }
}

/** The innermost message: an ActivityFailure's own says only "Activity task failed". */
function causeMessage(err: unknown): string {
  let e = err as Error | undefined;
  while (e?.cause instanceof Error) e = e.cause;
  return e?.message ?? String(err);
}

function failureType(err: unknown): string | undefined {
  return err instanceof ActivityFailure && err.cause instanceof ApplicationFailure
    ? (err.cause.type ?? undefined)
    : undefined;
}

/** Runs every step even when one fails: a failed step must not leave the next one's resource. */
async function compensate(steps: Array<() => Promise<unknown>>): Promise<void> {
  for (const step of steps) {
    try {
      await step();
    } catch (err) {
      log.warn('teardown step failed', { error: causeMessage(err) });
    }
  }
}

export async function captureWorkflow(input: CaptureInput, resume?: CaptureResume): Promise<CaptureResult> {
  const { workflowId } = workflowInfo();
  const progress: CaptureProgress = {
    phase: 'starting',
    snapshotId: resume?.snapshotId ?? null,
    pairs: 0,
    dropped: 0,
    bytes: 0,
    startedAt: resume?.startedAt ?? new Date().toISOString(),
    inPort: null,
    outPort: null,
  };
  setHandler(progressQuery, () => progress);
  let stopRequested = false;
  setHandler(stopSignal, () => void (stopRequested = true));

  let config: CaptureConfig;
  try {
    config = validate(input);
  } catch (err) {
    progress.phase = 'failed';
    throw err;
  }
  const snapshotId = resume?.snapshotId ?? config.snapshotId ?? newSnapshotId();
  progress.snapshotId = snapshotId;
  const ref: CaptureRef = { captureId: workflowId, snapshotId };
  upsertSearchAttributes([
    { key: RepriseKind, value: 'capture' },
    { key: RepriseService, value: config.service },
    { key: RepriseSnapshotId, value: snapshotId },
  ]);

  const durationMs = captureDurationMs(config);
  const startedMs = Date.parse(progress.startedAt);
  const deadline = durationMs === undefined ? undefined : startedMs + durationMs;

  const record = (counts: CaptureCounts) => {
    progress.pairs = counts.pairs;
    progress.dropped = counts.dropped;
    progress.bytes = counts.bytes;
  };

  /** Idempotent: also how a capture proxy that went away (a crashed sidecar) is put back. */
  async function enableCapture(recording: RecordingHandle): Promise<void> {
    const endpoints: CaptureEndpoints = await control.enableCapture({
      ...ref,
      service: config.service,
      target: config.target,
      recording,
      maxBodyBytes: config.maxBodyBytes,
    });
    progress.inPort = endpoints.inPort;
    progress.outPort = endpoints.outPort;
  }

  /** Returns why the capture phase ended. */
  async function waitForStop(recording: RecordingHandle): Promise<'stopped' | 'elapsed' | 'continue'> {
    for (;;) {
      if (stopRequested) return 'stopped';
      const now = Date.now();
      if (deadline !== undefined && now >= deadline) return 'elapsed';
      if (workflowInfo().continueAsNewSuggested) return 'continue';
      const poll = Math.min(POLL_MAX_MS, Math.max(POLL_MIN_MS, (now - startedMs) / 60));
      if (
        await condition(() => stopRequested, deadline === undefined ? poll : Math.min(poll, deadline - now))
      ) {
        return 'stopped';
      }
      try {
        const status = await captureProgress(ref);
        record(status);
        if (!status.capturing) {
          log.warn('the capture proxy is gone; enabling capture again');
          await enableCapture(recording);
        }
      } catch (err) {
        // A lost recording cannot be sealed: end now rather than at the stop signal.
        if (isCancellation(err) || failureType(err) === 'RecordingLost') throw err;
        log.warn('progress poll failed', { error: causeMessage(err) });
      }
    }
  }

  // Compensations run last-added first: stop the sidecar, abort if unsealed, stop the forwarder.
  // Each is added before its setup step runs: a step may start something and then fail.
  const undo: Array<() => Promise<unknown>> = [];
  let sealed = false;
  let sidecarStopped = false;
  let handedOver = false;
  let outcome: CapturePhase = 'failed';
  try {
    undo.unshift(() => teardown.teardownCapture(ref));
    undo.unshift(async () => sealed || (await teardown.abortRecording(ref)));
    const recording =
      resume?.recording ??
      (await control.openRecording({
        ...ref,
        service: config.service,
        filters: config.filters ?? undefined,
        dlp: config.dlp ?? undefined,
        meta: { captureWorkflowId: workflowId },
      }));

    undo.unshift(async () => sidecarStopped || (await teardown.disableCapture(ref)));
    await enableCapture(recording);
    progress.phase = 'capturing';

    if ((await waitForStop(recording)) === 'continue') {
      handedOver = true;
      const state: CaptureResume = { snapshotId, startedAt: progress.startedAt, recording };
      return await continueAsNew<typeof captureWorkflow>(input, state);
    }

    progress.phase = 'stopping';
    await control.disableCapture(ref);
    sidecarStopped = true;

    progress.phase = 'sealing';
    const counts = await sealSnapshot(ref);
    sealed = true;
    record(counts);
    outcome = 'done';
    return {
      snapshotId,
      pairs: counts.pairs,
      dropped: counts.dropped,
      filtered: counts.filtered,
      bytes: counts.bytes,
      inbound: counts.inbound,
      outbound: counts.outbound,
      workflowId,
      startedAt: progress.startedAt,
      endedAt: new Date().toISOString(),
    };
  } catch (err) {
    if (isCancellation(err)) outcome = 'canceled';
    throw err;
  } finally {
    if (!handedOver) {
      await CancellationScope.nonCancellable(() => compensate(undo));
      progress.phase = outcome;
    }
  }
}
