/**
 * Warm standbys: one idle process per worker script, started with `--standby` so that Node has
 * already loaded its modules (src/base/worker-args.ts), waiting for its arguments on stdin. A
 * replay that needs a responder or a generator takes the standby instead of starting Node
 * (about a second for the responder, which loads mockttp, half a second for the generator).
 * What it costs: an idle standby holds its memory (about 90 MB resident for the responder, 75 MB
 * for the generator) and is replaced only when the replay that took it is over, so it never loads
 * while a replay runs. A standby's stdin is a pipe from this process: when this process goes,
 * the standby reads the end of its input and exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { Socket } from 'node:net';
import { STANDBY_FLAG } from '../../src/base/worker-args.js';

export interface Standby {
  child: ChildProcess;
  pid: number;
  script: string;
  /** Where its stdout and stderr go until it is taken (then the run's log takes its place). */
  logFile: string;
}

interface Idle extends Standby {
  /** The environment it was started with; a request for another one starts afresh. */
  envKey: string;
}

const envKeyOf = (env: NodeJS.ProcessEnv) => JSON.stringify(Object.entries(env).sort());

export class Standbys {
  private readonly idle = new Map<string, Idle>();
  private seq = 0;

  /** `dir` holds the standbys' logs. */
  constructor(private readonly dir: string) {}

  /** Starts a standby of `script` with `env` unless one is idle already. */
  prepare(script: string, env: NodeJS.ProcessEnv): void {
    const current = this.idle.get(script);
    if (current && current.child.exitCode === null && current.child.signalCode === null) return;
    mkdirSync(this.dir, { recursive: true });
    const logFile = path.join(this.dir, `${path.basename(script, '.js')}-${process.pid}-${++this.seq}.log`);
    const fd = openSync(logFile, 'a');
    let child: ChildProcess;
    try {
      // Its own process group, like every process the supervisor starts (teardown kills the group).
      child = spawn(process.execPath, [script, STANDBY_FLAG], {
        detached: true,
        stdio: ['pipe', fd, fd],
        env,
      });
    } finally {
      closeSync(fd);
    }
    if (!child.pid) return;
    child.unref();
    (child.stdin as Socket).unref();
    child.once('exit', () => {
      if (this.idle.get(script)?.child !== child) return;
      // Never taken: its log holds nothing of a run.
      this.idle.delete(script);
      rm(logFile, { force: true }).catch(() => undefined);
    });
    this.idle.set(script, { child, pid: child.pid, script, logFile, envKey: envKeyOf(env) });
  }

  /** The idle standby of `script` started with `env`, no longer idle; undefined when there is none. */
  take(script: string, env: NodeJS.ProcessEnv): Standby | undefined {
    const s = this.idle.get(script);
    if (!s || s.envKey !== envKeyOf(env) || s.child.exitCode !== null || s.child.signalCode !== null)
      return undefined;
    this.idle.delete(script);
    return s;
  }

  /** Hands a taken standby its arguments: from here on it runs as if started with them. */
  static start(s: Standby, args: string[]): void {
    s.child.stdin!.end(JSON.stringify(args) + '\n');
  }

  /** Ends every idle standby. */
  stopAll(): void {
    for (const s of this.idle.values()) {
      s.child.kill('SIGKILL');
      rmSync(s.logFile, { force: true });
    }
    this.idle.clear();
  }
}
