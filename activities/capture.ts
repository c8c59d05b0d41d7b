/**
 * The capture activities, built on whichever CaptureRuntime the worker was given. They add
 * what Temporal needs and the runtime should not know: heartbeats, cancellation, and which
 * failures are worth retrying.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import {
  CaptureRuntimeError,
  type CaptureRef,
  type CaptureRuntime,
  type EnableCaptureRequest,
  type OpenRecordingRequest,
  type RuntimeContext,
} from './runtime.js';

function runtimeContext(): RuntimeContext {
  const ctx = Context.current();
  return { heartbeat: () => ctx.heartbeat(), signal: ctx.cancellationSignal };
}

async function run<T>(work: (ctx: RuntimeContext) => Promise<T>): Promise<T> {
  const ctx = runtimeContext();
  try {
    return await work(ctx);
  } catch (err) {
    // Cancelled: report the cancellation itself, whatever the runtime threw on its way out.
    if (ctx.signal.aborted) throw ctx.signal.reason ?? err;
    if (err instanceof CaptureRuntimeError) {
      throw ApplicationFailure.create({ message: err.message, type: err.type, nonRetryable: !err.retryable });
    }
    throw err;
  }
}

export function createCaptureActivities(runtime: CaptureRuntime) {
  return {
    openRecording: (req: OpenRecordingRequest) => run((ctx) => runtime.openRecording(req, ctx)),
    enableCapture: (req: EnableCaptureRequest) => run((ctx) => runtime.enableCapture(req, ctx)),
    captureProgress: (ref: CaptureRef) => run((ctx) => runtime.captureProgress(ref, ctx)),
    disableCapture: (ref: CaptureRef) => run((ctx) => runtime.disableCapture(ref, ctx)),
    sealSnapshot: (ref: CaptureRef) => run((ctx) => runtime.sealSnapshot(ref, ctx)),
    abortRecording: (ref: CaptureRef) => run((ctx) => runtime.abortRecording(ref, ctx)),
    teardownCapture: (ref: CaptureRef) => run((ctx) => runtime.teardown(ref, ctx)),
  };
}

export type CaptureActivities = ReturnType<typeof createCaptureActivities>;
