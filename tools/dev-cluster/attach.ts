/**
 * A running dev cluster found by its folder (started detached by `up` or `startDevCluster({
 * detach: true })`), for a later process that works in it and adds to it: kubectl, helm, image
 * imports, and more components (a relay, a Temporal server) recorded in its state.json, so
 * `down` stops them with the rest.
 */
import path from 'node:path';
import { probeReady } from './cluster.js';
import { clusterEnv } from './files.js';
import { Launcher } from './launcher.js';
import { isRunning, type ProcessEntry } from './processes.js';
import { containerdPaths, importImages } from './real-node/containerd.js';
import { startRelay } from './relay-process.js';
import { runTool, type ToolResult, type ToolRunOptions } from './run-tool.js';
import { readState, writeState, type ClusterState } from './state.js';
import { controlPlaneTools, realNodeTools } from './tools.js';

export interface AttachedCluster {
  dir: string;
  kubeconfigPath: string;
  /** The host's end of the node's link: pods reach this machine there. */
  hostAddress: string;
  kubectl(args: string[], opts?: ToolRunOptions): Promise<ToolResult>;
  helm(args: string[], opts?: ToolRunOptions): Promise<ToolResult>;
  importImages(archives: string[]): Promise<void>;
  /** A port recorded in state.json (`setPort`), if its component still runs. */
  port(name: string): number | undefined;
  setPort(name: string, port: number): Promise<void>;
  /** The running component of that name, if any. */
  component(name: string): ProcessEntry | undefined;
  /** Starts a component (its own process group, log in the cluster's logs folder), recorded at once. */
  launch(name: string, command: string, args: string[]): Promise<ProcessEntry>;
  /** As DevCluster.relay: `hostAddress:PORT` relayed to `target` on this machine. */
  relay(target: string): Promise<string>;
}

/** Throws when `dir` holds no ready cluster with a real node. */
export async function attachDevCluster(dir: string): Promise<AttachedCluster> {
  const state = readState(dir);
  if (!state || !(await probeReady(dir)))
    throw new Error(`no ready dev cluster in ${dir} (start one: npm run cluster:up)`);
  if (state.node !== 'real' || !state.network)
    throw new Error(`the dev cluster in ${dir} has no real node (${state.node ?? 'kwok'})`);
  const tools = { ...controlPlaneTools(), ...realNodeTools() };
  const env = clusterEnv(dir, tools, state.kubeconfigPath);
  const launcher = new Launcher(state, path.join(dir, 'logs'), {
    timeoutMs: 0,
    deadline: 0,
    log: () => undefined,
  });
  const fresh = (): ClusterState => readState(dir) ?? state;
  const component = (name: string) => fresh().processes.find((p) => p.name === name && isRunning(p));
  return {
    dir,
    kubeconfigPath: state.kubeconfigPath,
    hostAddress: state.network.hostIp,
    kubectl: (args, opts) => runTool(tools.kubectl, args, env, opts),
    helm: (args, opts) => runTool(tools.helm, args, env, opts),
    importImages: (archives) => importImages(tools.ctr, containerdPaths(dir).socket, archives),
    port: (name) => fresh().ports[name],
    setPort: async (name, port) => {
      state.ports[name] = port;
      await writeState(state);
    },
    component,
    launch: (name, command, args) => launcher.start(name, command, args),
    relay: (target) => startRelay(launcher, state.network!.hostIp, target),
  };
}
