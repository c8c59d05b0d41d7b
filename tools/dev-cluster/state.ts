/**
 * `state.json` in the cluster folder: what runs (pids) and where it answers. Written as soon
 * as each process exists, so `down`, the watchdog and the exit hook can always clean up,
 * whoever started the cluster and however that process ended.
 */
import { readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { isRunning, type ProcessEntry } from './processes.js';
import type { ClusterNetwork } from './slots.js';

export interface ClusterState {
  version: 1;
  dir: string;
  /** Empty until the API server's port is chosen. */
  server: string;
  kubeconfigPath: string;
  /** Keep the folder when the cluster stops. */
  keep: boolean;
  startedAt: string;
  /** True once every component answered; a crash during start leaves it false. */
  ready: boolean;
  ports: Record<string, number>;
  /** In start order; stopped together. */
  processes: ProcessEntry[];
  /** The process that cleans up when the cluster's owner dies (absent for `up`). */
  watchdog?: ProcessEntry;
  /** `kwok`: KWOK plays the kubelet of a fake Node; `real`: containerd, kubelet, kube-proxy. */
  node?: NodeKind;
  /** The cluster's address slot (absent until claimed). */
  network?: ClusterNetwork;
  /** What the cluster changed on this machine, recorded before each change, undone by teardown. */
  host?: HostChanges;
}

export type NodeKind = 'kwok' | 'real';

export interface HostChanges {
  /** REJECT rules for the network's block on the uplinks (guard.ts). */
  guard?: boolean;
  /** A real node's network namespace (its veth pair, CNI bridge and iptables die with it). */
  netns?: string;
  /** A real node's cgroup (cgroupfs path, the same in every v1 hierarchy). */
  cgroupRoot?: string;
  /** The kubelet set the kernel tunables it wants (sysctl-ledger.ts restores them). */
  kernelTunables?: boolean;
  /** The CNI network name (the plugins' cache files in /var/lib/cni carry it). */
  cniNetwork?: string;
}

export const stateFile = (dir: string) => path.join(dir, 'state.json');

export function readState(dir: string): ClusterState | undefined {
  try {
    return JSON.parse(readFileSync(stateFile(dir), 'utf8')) as ClusterState;
  } catch (err) {
    // Absent, or torn by a crash mid-write (the rename below makes that unlikely): nothing to trust.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || err instanceof SyntaxError) return undefined;
    throw err;
  }
}

/** Atomic, so a reader never sees half a state. */
export async function writeState(state: ClusterState): Promise<void> {
  const tmp = `${stateFile(state.dir)}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(state, null, 2) + '\n');
  await rename(tmp, stateFile(state.dir));
}

export const runningProcesses = (state: ClusterState) => state.processes.filter(isRunning);
