/** The local runtime: captures and replays as processes on this machine. */
export { LocalCaptureRuntime, type LocalCaptureRuntimeOptions } from './capture-runtime.js';
export { LocalReplayRuntime } from './replay-runtime.js';
