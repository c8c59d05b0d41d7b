/**
 * The cluster's component processes: each in its own process group (so stop can kill it with
 * whatever it started, and a Ctrl-C in the terminal reaches only the parent), its output in a
 * log file in the cluster folder (a pipe would break once the parent is gone), and recorded
 * by pid and kernel start time, so a later `down` never signals a pid reused by another
 * program.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';

export interface ProcessEntry {
  name: string;
  pid: number;
  /** Field 22 of /proc/PID/stat (clock ticks since boot): with the pid, names one process. */
  startTime: string;
  logFile: string;
}

const POLL_MS = 50;

/** State and start time of `pid`, or undefined when it does not exist. */
function procStat(pid: number): { state: string; startTime: string } | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: split after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0], startTime: fields[19] };
}

/** Threads of `pid` still listed by the kernel. */
function threadCount(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/task`).length;
  } catch {
    return 0;
  }
}

/**
 * True until the recorded process is gone (its pid not reused). A zombie leader does not
 * count as gone while other threads remain: a Go binary's sockets close only when its last
 * thread exits, and callers wait for the ports to be free.
 */
export function isRunning(entry: Pick<ProcessEntry, 'pid' | 'startTime'>): boolean {
  const stat = procStat(entry.pid);
  if (stat === undefined || stat.startTime !== entry.startTime) return false;
  return stat.state !== 'Z' || threadCount(entry.pid) > 1;
}

/** The record of a process just spawned (its start time read while it surely runs). */
export function recordOf(
  name: string,
  pid: number | undefined,
  logFile: string,
  command: string,
): ProcessEntry {
  const stat = pid === undefined ? undefined : procStat(pid);
  if (pid === undefined || !stat) throw new Error(`could not start ${name} (${command})`);
  return { name, pid, startTime: stat.startTime, logFile };
}

export interface SpawnSpec {
  name: string;
  command: string;
  args: string[];
  logFile: string;
  env?: NodeJS.ProcessEnv;
}

/** Starts a component detached, stdout and stderr appended to its log file. */
export function spawnComponent(spec: SpawnSpec): ProcessEntry {
  const fd = openSync(spec.logFile, 'a');
  try {
    const child = spawn(spec.command, spec.args, {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: spec.env ?? process.env,
    });
    // Reported through the log: a spawn error (ENOENT) shows as a process that is not running.
    child.once('error', () => undefined);
    // The cluster must not keep its parent alive; stop() or the exit hooks end it.
    child.unref();
    return recordOf(spec.name, child.pid, spec.logFile, spec.command);
  } finally {
    closeSync(fd);
  }
}

function signalGroup(entry: ProcessEntry, signal: NodeJS.Signals): void {
  try {
    process.kill(-entry.pid, signal);
  } catch {
    // ESRCH: the group is gone already.
  }
}

/** SIGKILL for every group whose leader still runs; synchronous, for `process.on('exit')`. */
export function killNow(entries: ProcessEntry[]): void {
  for (const entry of entries) if (isRunning(entry)) signalGroup(entry, 'SIGKILL');
}

/**
 * Stops every group: SIGTERM, then SIGKILL for what still runs after `graceMs` (short: the
 * API server's graceful shutdown takes seconds and protects nothing in a throwaway cluster;
 * etcd, the only holder of data, exits at once). Resolves once every leader is gone; throws
 * naming what survived `killWaitMs` after SIGKILL.
 */
export async function stopAll(entries: ProcessEntry[], graceMs = 1_000, killWaitMs = 10_000): Promise<void> {
  const running = entries.filter(isRunning);
  for (const entry of running) signalGroup(entry, 'SIGTERM');
  const waitGone = async (ms: number) => {
    for (const deadline = Date.now() + ms; running.some(isRunning) && Date.now() < deadline;)
      await delay(POLL_MS);
    return running.filter(isRunning);
  };
  const stubborn = await waitGone(graceMs);
  // Also the groups whose leader left: children it started may still be in them.
  for (const entry of running) signalGroup(entry, 'SIGKILL');
  if (stubborn.length === 0) return;
  const left = await waitGone(killWaitMs);
  if (left.length > 0) {
    throw new Error(
      `still running ${killWaitMs} ms after SIGKILL: ${left.map((e) => `${e.name} (pid ${e.pid})`).join(', ')}`,
    );
  }
}

/** The last lines of a log file, for error messages. */
export function logTail(file: string, lines = 25): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
