/**
 * Keeps the processes of one capture or replay (a "run"): starts each at most once, finds it
 * again from its pid file after a retry or a worker restart, and stops them all on teardown.
 * Files live in `$REPRISE_HOME/run/<runId>/`: `<name>.json` (pid, ready line) and `<name>.log`.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, statSync } from 'node:fs';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { isSafeId } from '../../src/base/ids.js';
import { childLog } from '../../src/base/log.js';
import { runDir } from '../../src/base/paths.js';
import { RuntimeError, type RuntimeContext } from '../runtime.js';
import {
  awaitReady,
  isAlive,
  ownedAndAlive,
  readRecord,
  removeRecord,
  spawnReady,
  stopProcess,
  writeRecord,
  type ProcessRecord,
} from './processes.js';
import { Standbys } from './standby.js';

export interface ProcessSpec {
  name: string;
  /** A Node entry script (`dist/workers/*.js`), run with this Node... */
  script?: string;
  args?: string[];
  /** ...or a shell command (the user's app). */
  shell?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Wait for the JSON ready line (default true). */
  awaitReadyLine?: boolean;
  /** A health URL from the ready line: a live process that fails it is replaced. */
  health?: (record: ProcessRecord) => string | undefined;
  /** Keep the record of a process that exited: its output is the result (the generator). */
  reuseFinished?: boolean;
}

const READY_TIMEOUT_MS = 20_000;
/** How many ended processes' exit statuses are remembered (the oldest forgotten first). */
const MAX_EXITS_KEPT = 1_000;

/** Run folder names come from workflow ids, which may hold any character. */
export function folderName(runId: string): string {
  if (isSafeId(runId)) return runId;
  const readable = runId
    .replace(/[^A-Za-z0-9._-]/g, '_')
    .replace(/\.\.+/g, '_')
    .slice(0, 80);
  return `${readable}-${createHash('sha256').update(runId).digest('hex').slice(0, 12)}`;
}

async function healthy(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

export class Supervisor {
  private readonly log = childLog('supervisor');
  /** Runs this supervisor started processes for; stopEverything() ends them. */
  private readonly runs = new Set<string>();
  /** How processes started without a ready line ended, by pid: `code 3`, `signal SIGKILL`. */
  private readonly exits = new Map<number, string>();

  /** `standbys`: warm processes a worker script may be taken from instead of started (standby.ts). */
  constructor(private readonly opts: { home: string; readyTimeoutMs?: number; standbys?: Standbys }) {}

  runFolder(runId: string): string {
    return path.join(runDir(this.opts.home), folderName(runId));
  }

  recordFile(runId: string, name: string): string {
    return path.join(this.runFolder(runId), `${name}.json`);
  }

  logFile(runId: string, name: string): string {
    return path.join(this.runFolder(runId), `${name}.log`);
  }

  /** The live process `name` of the run, if there is one. */
  async live(runId: string, name: string): Promise<ProcessRecord | undefined> {
    const record = await readRecord(this.recordFile(runId, name));
    return record && (await ownedAndAlive(record)) ? record : undefined;
  }

  isRunning(record: ProcessRecord): Promise<boolean> {
    return isAlive(record.pid);
  }

  /**
   * Process `name` of the run was started and is gone: how it ended when this supervisor saw it
   * (`code 3`; undefined after a worker restart). Undefined when it runs or was never started.
   */
  async ended(runId: string, name: string): Promise<{ how?: string } | undefined> {
    const record = await readRecord(this.recordFile(runId, name));
    if (!record || (await ownedAndAlive(record))) return undefined;
    return { how: this.exits.get(record.pid) };
  }

  /** Reuses the live, healthy process started for the same spec; otherwise starts one. */
  async ensure(runId: string, spec: ProcessSpec, ctx: RuntimeContext): Promise<ProcessRecord> {
    const recordFile = this.recordFile(runId, spec.name);
    const key = JSON.stringify([spec.script, spec.shell, spec.args, spec.cwd]);
    const existing = await readRecord(recordFile);
    if (existing && existing.key === key) {
      const alive = await ownedAndAlive(existing);
      const url = spec.health?.(existing);
      if (alive && (!url || (await healthy(url)))) return existing;
      if (!alive && spec.reuseFinished) return existing;
    }
    if (existing) {
      this.log.warn({ runId, name: spec.name, pid: existing.pid }, 'replacing a stale process');
      await stopProcess(existing, 2_000, ctx);
    }
    await mkdir(this.runFolder(runId), { recursive: true });
    this.runs.add(runId);
    const logFile = this.logFile(runId, spec.name);
    const env = this.env(spec);
    const files = { recordFile, logFile, env, key };
    const adopted = await this.adoptStandby(spec, files, ctx);
    if (adopted) return adopted;
    if (spec.script && spec.awaitReadyLine !== false) {
      const { record } = await spawnReady(
        {
          name: spec.name,
          recordFile,
          script: spec.script,
          args: spec.args ?? [],
          env,
          logFile,
          key,
          readyTimeoutMs: READY_TIMEOUT_MS,
        },
        ctx,
      );
      return record;
    }
    return this.spawnDetached(spec, files);
  }

  /** The environment a process of `spec` is started with. */
  env(spec: ProcessSpec): NodeJS.ProcessEnv {
    return { ...process.env, REPRISE_HOME: this.opts.home, REPRISE_LOG_JSON: '1', ...spec.env };
  }

  /**
   * Takes the warm standby of the spec's script, if there is one, and hands it the spec's
   * arguments: the process then runs as if just started, its output in the run's log.
   */
  private async adoptStandby(
    spec: ProcessSpec,
    files: { recordFile: string; logFile: string; env: NodeJS.ProcessEnv; key: string },
    ctx: RuntimeContext,
  ): Promise<ProcessRecord | undefined> {
    // A log from an earlier attempt stays where it is: that step starts afresh.
    if (!spec.script || spec.cwd !== undefined || existsSync(files.logFile)) return undefined;
    const standby = this.opts.standbys?.take(spec.script, files.env);
    if (!standby) return undefined;
    await rename(standby.logFile, files.logFile);
    const logStart = statSync(files.logFile).size;
    Standbys.start(standby, spec.args ?? []);
    const ready = {
      name: spec.name,
      script: spec.script,
      args: spec.args ?? [],
      readyTimeoutMs: READY_TIMEOUT_MS,
      ...files,
    };
    if (spec.awaitReadyLine !== false) return (await awaitReady(ready, standby.child, logStart, ctx)).record;
    return recordStarted(standby.pid, spec.script, files);
  }

  /** Starts without waiting for a ready line; readiness is the caller's business. */
  private async spawnDetached(
    spec: ProcessSpec,
    files: { recordFile: string; logFile: string; env: NodeJS.ProcessEnv; key: string },
  ): Promise<ProcessRecord> {
    const [command, args, script] = spec.shell
      ? // Not `exec`: the shell stays the group leader whose command line proves the pid is ours.
        ['/bin/sh', ['-c', spec.shell], '/bin/sh']
      : [process.execPath, [spec.script!, ...(spec.args ?? [])], spec.script!];
    const fd = openSync(files.logFile, 'a');
    try {
      const child = spawn(command, args, {
        detached: true,
        stdio: ['ignore', fd, fd],
        env: files.env,
        cwd: spec.cwd,
      });
      child.unref();
      const pid = child.pid;
      if (!pid) throw new RuntimeError(`${spec.name}: could not start ${command}`, 'SpawnFailed');
      child.once('exit', (code, signal) => {
        if (this.exits.size >= MAX_EXITS_KEPT) this.exits.delete(this.exits.keys().next().value!);
        this.exits.set(pid, signal ? `signal ${signal}` : `code ${code}`);
      });
      return await recordStarted(pid, script, files);
    } finally {
      closeSync(fd);
    }
  }

  async stop(runId: string, name: string, graceMs: number, ctx: RuntimeContext): Promise<void> {
    const file = this.recordFile(runId, name);
    const record = await readRecord(file);
    if (record?.pid) await stopProcess(record, graceMs, ctx);
    await removeRecord(file);
  }

  /** Stops every process of the run, newest first. */
  async stopAllOf(runId: string, graceMs: number, ctx: RuntimeContext): Promise<void> {
    const files = await readdir(this.runFolder(runId)).catch(() => [] as string[]);
    const names = files
      .filter((f) => f.endsWith('.json') && !f.includes('config'))
      .map((f) => f.slice(0, -5));
    for (const name of names.reverse()) await this.stop(runId, name, graceMs, ctx);
    this.runs.delete(runId);
  }

  /** Stops every run, then removes its folder. */
  async forget(runId: string): Promise<void> {
    await rm(this.runFolder(runId), { recursive: true, force: true });
    this.runs.delete(runId);
  }

  /** Kills what this supervisor started and nobody tore down (an embedded worker exiting). */
  async stopEverything(graceMs = 5_000): Promise<void> {
    const ctx: RuntimeContext = { heartbeat: () => {}, signal: new AbortController().signal };
    await Promise.allSettled([...this.runs].map((runId) => this.stopAllOf(runId, graceMs, ctx)));
  }
}

/** Writes the record of a process started without waiting for a ready line. */
async function recordStarted(
  pid: number,
  script: string,
  files: { recordFile: string; logFile: string; key: string },
): Promise<ProcessRecord> {
  const record: ProcessRecord = {
    pid,
    script,
    logFile: files.logFile,
    startedAt: new Date().toISOString(),
    ready: {},
    key: files.key,
  };
  await writeRecord(files.recordFile, record);
  return record;
}
