/**
 * Stops a cluster from what its state.json records, whoever started it and however that
 * process ended: the processes first, then what the cluster changed on the machine (a real
 * node's leftovers, the guard), then the address slot and the folder.
 */
import { rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { removeGuard } from './guard.js';
import { isRunning, killNow, stopAll } from './processes.js';
import { cleanupRealNode } from './real-node/cleanup.js';
import { cgroupRootOf, removeCgroupRoot } from './real-node/cgroups.js';
import { removeNodeNetwork } from './real-node/netns.js';
import { releaseSlot, type ClusterNetwork } from './slots.js';
import { readState, type ClusterState } from './state.js';

const KILL_WAIT_MS = 10_000;

/**
 * A stale address slot (its cluster died with its watchdog): undo what that cluster's state
 * records, or, with its folder gone, what the slot alone names (its guard, namespace, cgroup).
 */
export function reclaimSlot(net: ClusterNetwork, dir: string): void {
  const state = readState(dir);
  if (state?.network?.slot === net.slot) {
    killNow(state.processes);
    undoHostChanges(state);
    return;
  }
  removeGuard(net.slot);
  removeNodeNetwork(net.slot);
  removeCgroupRoot(cgroupRootOf(net.slot));
}

/** Undoes the host changes state.json records; synchronous (an exit hook runs it too). */
function undoHostChanges(state: ClusterState): void {
  const net = state.network;
  if (!net) return;
  const changes = state.host ?? {};
  if (changes.netns || changes.cgroupRoot) cleanupRealNode(state.dir, net, changes);
  if (changes.guard) removeGuard(net.slot);
  releaseSlot(net.slot, state.dir);
}

/**
 * Stops everything `dir`'s state names (the watchdog first, so it does not race us), undoes
 * the host changes, and removes the folder unless the state says keep (or `removeDir`
 * overrides it).
 */
export async function teardown(
  dir: string,
  opts: { removeDir?: boolean; skipWatchdog?: boolean } = {},
): Promise<void> {
  const state = readState(dir);
  if (state) {
    if (state.watchdog && !opts.skipWatchdog) await stopAll([state.watchdog]);
    // All at once (a stopped cluster has nothing to drain); signalled in reverse start order.
    await stopAll([...state.processes].reverse());
    undoHostChanges(state);
  }
  if (opts.removeDir ?? !state?.keep) await rm(dir, { recursive: true, force: true });
}

/** The whole teardown, synchronously, for `process.on('exit')`. */
export function teardownNow(dir: string): void {
  const state = readState(dir);
  if (!state) return;
  killNow(state.processes);
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  for (const deadline = Date.now() + KILL_WAIT_MS; state.processes.some(isRunning) && Date.now() < deadline;)
    Atomics.wait(sleeper, 0, 0, 20);
  try {
    undoHostChanges(state);
  } catch (err) {
    process.stderr.write(`dev cluster ${dir}: ${(err as Error).message}\n`);
    return;
  }
  if (!state.keep) rmSync(dir, { recursive: true, force: true });
}
