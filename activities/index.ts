/** Activities by concern; a worker registers the ones built on its runtime. */
export { createCaptureActivities, type CaptureActivities } from './capture.js';
export * from './runtime.js';
