/**
 * Child processes that outlive the worker that started them: each runs in its own process
 * group (so teardown can kill the group, and a Ctrl-C in the terminal does not skip the
 * drain), writes stdout and stderr to a log file (a pipe would break when the worker dies),
 * and is described by a pid file so any later activity, in any worker, can find it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, fstatSync, openSync } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { RuntimeError, type RuntimeContext } from '../runtime.js';

/** The contents of `<name>.json` in a capture's run folder. */
export interface ProcessRecord {
  pid: number;
  /** The entry script; a pid whose command line lacks it was reused by another program. */
  script: string;
  logFile: string;
  startedAt: string;
  /** The process's ready line (ports). */
  ready: Record<string, unknown>;
  /** What it was started for (arguments); a different request restarts it. */
  key: string;
}

export interface SpawnSpec {
  name: string;
  /** The pid file, written as soon as the process exists so teardown can always find it. */
  recordFile: string;
  script: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  logFile: string;
  key: string;
  readyTimeoutMs: number;
}

const POLL_MS = 50;
/** The ready line is on a replay's critical path: looked for more often than an exit. */
const READY_POLL_MS = 20;

export async function readRecord(file: string): Promise<ProcessRecord | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as ProcessRecord;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    // A torn or corrupt file: nothing trustworthy to reuse or kill.
    if (err instanceof SyntaxError) return undefined;
    throw err;
  }
}

/** Atomic, so a reader never sees half a record. */
export async function writeRecord(file: string, record: ProcessRecord): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(record, null, 2) + '\n');
  await rename(tmp, file);
}

export const removeRecord = (file: string) => rm(file, { force: true });

async function procStat(pid: number): Promise<string | undefined> {
  try {
    return await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
}

/** True while the process exists and is not a zombie waiting to be reaped. */
export async function isAlive(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  const stat = await procStat(pid);
  // Field 3 of /proc/PID/stat is the state; the command name before it may contain spaces.
  return !stat || stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
}

/** Whether `pid` still runs `script` (Linux); elsewhere being alive has to do. */
export async function runsScript(pid: number, script: string): Promise<boolean> {
  try {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.split('\0').includes(script);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && (await procStat(process.pid))) return false;
    return isAlive(pid);
  }
}

/** The record's process, when it is alive and still the one we started. */
export async function ownedAndAlive(record: ProcessRecord): Promise<boolean> {
  return (await isAlive(record.pid)) && (await runsScript(record.pid, record.script));
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, signal);
      return;
    } catch (err) {
      // ESRCH on the group: it may not lead a group (started elsewhere); try the pid.
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  }
}

async function waitForExit(pid: number, timeoutMs: number, ctx: RuntimeContext): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (await isAlive(pid)) {
    if (Date.now() >= deadline) return false;
    ctx.heartbeat();
    await delay(POLL_MS);
  }
  return true;
}

/**
 * SIGTERM to the group, up to `graceMs` for a clean exit (the sidecar drains in that time),
 * then SIGKILL. A process already gone is success: stopping is idempotent.
 */
export async function stopProcess(
  record: ProcessRecord,
  graceMs: number,
  ctx: RuntimeContext,
): Promise<void> {
  if (!(await ownedAndAlive(record))) return;
  signalGroup(record.pid, 'SIGTERM');
  if (await waitForExit(record.pid, graceMs, ctx)) return;
  signalGroup(record.pid, 'SIGKILL');
  if (!(await waitForExit(record.pid, 5_000, ctx))) {
    throw new RuntimeError(`pid ${record.pid} (${record.script}) survived SIGKILL`, 'ProcessStuck', true);
  }
}

/** The last lines of a log, from byte `from` on. */
export async function logTail(file: string, lines = 20, from = 0): Promise<string> {
  try {
    const text = (await readFile(file)).subarray(from).toString('utf8');
    return text.trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** The ready line of process `pid` in `text` (the log is shared with earlier runs of the same step). */
function readyLine(text: string, pid: number): Record<string, unknown> | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const obj = JSON.parse(line) as Record<string, unknown>;
      if (obj.event === 'ready' && (obj.pid === undefined || obj.pid === pid)) return obj;
    } catch {
      // a log line that only looks like JSON, or one still being written
    }
  }
  return undefined;
}

async function failure(
  spec: SpawnSpec,
  logStart: number,
  why: string,
  code: number | null,
): Promise<RuntimeError> {
  const tail = await logTail(spec.logFile, 20, logStart);
  const message = `${spec.name} ${why}${tail ? `:\n${tail}` : ''}`;
  if (/EADDRINUSE/.test(tail)) return new RuntimeError(message, 'PortInUse');
  // Exit code 2 is a usage error (docs/contracts.md): the same arguments fail again.
  if (code === 2) return new RuntimeError(message, 'InvalidArguments');
  return new RuntimeError(message, 'ProcessFailed', true);
}

/**
 * Starts `node script args` in its own process group and waits for its JSON ready line.
 * The child handle is unref'd so a worker can exit while captures run on; the pid is what
 * later activities use.
 */
export async function spawnReady(
  spec: SpawnSpec,
  ctx: RuntimeContext,
): Promise<{ child: ChildProcess; record: ProcessRecord }> {
  const fd = openSync(spec.logFile, 'a');
  // Earlier runs of this step appended to the same log: read only what this process writes.
  const logStart = fstatSync(fd).size;
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, [spec.script, ...spec.args], {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: spec.env,
    });
  } finally {
    closeSync(fd);
  }
  child.unref();
  return awaitReady(spec, child, logStart, ctx);
}

/**
 * Records `child` (a process of `spec` whose output goes to its log from byte `logStart` on) and
 * waits for its JSON ready line; on failure it is killed and the log's tail explains why.
 */
export async function awaitReady(
  spec: SpawnSpec,
  child: ChildProcess,
  logStart: number,
  ctx: RuntimeContext,
): Promise<{ child: ChildProcess; record: ProcessRecord }> {
  const record: ProcessRecord = {
    pid: child.pid ?? 0,
    script: spec.script,
    logFile: spec.logFile,
    startedAt: new Date().toISOString(),
    ready: {},
    key: spec.key,
  };
  if (child.pid) await writeRecord(spec.recordFile, record);
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined =
    child.exitCode !== null || child.signalCode !== null
      ? { code: child.exitCode, signal: child.signalCode }
      : undefined;
  child.once('exit', (code, signal) => (exit = { code, signal }));
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));

  const stop = () => signalGroup(child.pid!, 'SIGKILL');
  const deadline = Date.now() + spec.readyTimeoutMs;
  for (;;) {
    const exitedBeforeRead = exit;
    const log = await readFile(spec.logFile).catch(() => Buffer.alloc(0));
    const ready = readyLine(log.subarray(logStart).toString('utf8'), record.pid);
    if (ready && child.pid) {
      record.ready = ready;
      await writeRecord(spec.recordFile, record);
      return { child, record };
    }
    if (!child.pid) throw new RuntimeError(`${spec.name}: ${(await spawnError).message}`, 'SpawnFailed');
    if (exitedBeforeRead) {
      const how = exitedBeforeRead.signal ?? `code ${exitedBeforeRead.code}`;
      throw await failure(spec, logStart, `exited (${how}) before it was ready`, exitedBeforeRead.code);
    }
    if (ctx.signal.aborted) {
      stop();
      throw new RuntimeError(`${spec.name}: start cancelled`, 'Cancelled', true);
    }
    if (Date.now() >= deadline) {
      stop();
      throw await failure(spec, logStart, `printed no ready line within ${spec.readyTimeoutMs} ms`, null);
    }
    ctx.heartbeat();
    await delay(READY_POLL_MS);
  }
}
