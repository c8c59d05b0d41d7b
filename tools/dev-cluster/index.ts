/** The test Kubernetes cluster: see cluster.ts. */
export {
  probeReady,
  FAKE_NODE_NAME,
  NODE_NAME,
  startDevCluster,
  type DevCluster,
  type DevClusterOptions,
} from './cluster.js';
export type { ToolResult, ToolRunOptions } from './run-tool.js';
export type { ClusterNetwork } from './slots.js';
export type { NodeKind } from './state.js';
export { ENSURE_COMMAND, kubeToolPaths } from './tools.js';
