/**
 * `state.json` in the cluster folder: what runs (pids) and where it answers. Written as soon
 * as each process exists, so `down`, the watchdog and the exit hook can always clean up,
 * whoever started the cluster and however that process ended.
 */
import { readFileSync, rmSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { isRunning, killNow, stopAll, type ProcessEntry } from './processes.js';

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

/**
 * Stops everything `dir`'s state names (the watchdog first, so it does not race us) and
 * removes the folder unless the state says keep (or `removeDir` overrides it).
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
  }
  if (opts.removeDir ?? !state?.keep) await rm(dir, { recursive: true, force: true });
}

/**
 * The synchronous part of teardown, for `process.on('exit')`; the watchdog, seeing its pipe
 * close as we exit, then does the rest.
 */
export function teardownNow(dir: string): void {
  const state = readState(dir);
  if (!state) return;
  killNow(state.processes);
  if (!state.keep) rmSync(dir, { recursive: true, force: true });
}
