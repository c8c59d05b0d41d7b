/**
 * The capture activities, built on whichever CaptureRuntime the worker was given. They add
 * what Temporal needs and the runtime should not know: heartbeats, cancellation, and which
 * failures are worth retrying.
 */
import { inActivity } from './in-activity.js';
import {
  type CaptureRef,
  type CaptureRuntime,
  type EnableCaptureRequest,
  type OpenRecordingRequest,
} from './runtime.js';

export function createCaptureActivities(runtime: CaptureRuntime) {
  return {
    openRecording: (req: OpenRecordingRequest) => inActivity((ctx) => runtime.openRecording(req, ctx)),
    enableCapture: (req: EnableCaptureRequest) => inActivity((ctx) => runtime.enableCapture(req, ctx)),
    captureProgress: (ref: CaptureRef) => inActivity((ctx) => runtime.captureProgress(ref, ctx)),
    disableCapture: (ref: CaptureRef) => inActivity((ctx) => runtime.disableCapture(ref, ctx)),
    sealSnapshot: (ref: CaptureRef) => inActivity((ctx) => runtime.sealSnapshot(ref, ctx)),
    abortRecording: (ref: CaptureRef) => inActivity((ctx) => runtime.abortRecording(ref, ctx)),
    teardownCapture: (ref: CaptureRef) => inActivity((ctx) => runtime.teardown(ref, ctx)),
  };
}

export type CaptureActivities = ReturnType<typeof createCaptureActivities>;
