/** The Kubernetes runtime: captures and replays as annotated workloads, Deployments and Jobs. */
export { KubeCaptureRuntime, type KubeCaptureRuntimeOptions } from './capture-runtime.js';
export { KubeReplayRuntime, type KubeReplayRuntimeOptions } from './replay/index.js';
