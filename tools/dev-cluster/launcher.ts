/** Starts a cluster's components one by one and waits for each, within one start bound. */
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { isRunning, logTail, spawnComponent, type ProcessEntry } from './processes.js';
import { writeState, type ClusterState } from './state.js';

const POLL_MS = 100;

export class StartError extends Error {
  constructor(
    message: string,
    /** A port was taken between our probe and the component's bind: worth another try. */
    readonly portRace: boolean,
  ) {
    super(message);
  }
}

export interface StartLimits {
  /** The whole start's bound, and when it runs out. */
  timeoutMs: number;
  deadline: number;
  log: (msg: string) => void;
}

/** Records each component in state.json the moment it exists. */
export class Launcher {
  private readonly began = Date.now();

  constructor(
    readonly state: ClusterState,
    readonly logs: string,
    private readonly limits: StartLimits,
  ) {}

  progress(msg: string): void {
    this.limits.log(`${((Date.now() - this.began) / 1000).toFixed(1).padStart(5)} s  ${msg}`);
  }

  /** `wrap`: a command prefix (nsenter into a real node's network namespace). */
  async start(name: string, command: string, args: string[], wrap: string[] = []): Promise<ProcessEntry> {
    const [file, ...rest] = [...wrap, command, ...args];
    const entry = spawnComponent({
      name,
      command: file,
      args: rest,
      logFile: path.join(this.logs, `${name}.log`),
    });
    this.state.processes.push(entry);
    await writeState(this.state);
    this.progress(`started ${name} (pid ${entry.pid})`);
    return entry;
  }

  /** Throws, with the log's tail, when a component already exited. */
  checkAlive(): void {
    const dead = this.state.processes.find((entry) => !isRunning(entry));
    if (!dead) return;
    const tail = logTail(dead.logFile);
    throw new StartError(
      `${dead.name} exited during start (log ${dead.logFile}):\n${tail}`,
      /address already in use/i.test(tail),
    );
  }

  /** Polls `check` until it holds, failing early when a component dies. */
  async waitFor(what: string, check: () => Promise<boolean>, blame?: ProcessEntry): Promise<void> {
    let lastError = '';
    for (;;) {
      this.checkAlive();
      try {
        // One slow probe (5 s request bound) must not carry the wait past the deadline.
        const remaining = Math.max(0, this.limits.deadline - Date.now());
        const cancel = new AbortController();
        const timedOut = delay(remaining, false, { signal: cancel.signal }).catch(() => false);
        const ok = await Promise.race([check(), timedOut]).finally(() => cancel.abort());
        if (ok) return this.progress(`ready: ${what}`);
      } catch (err) {
        lastError = (err as Error).message;
      }
      if (Date.now() >= this.limits.deadline) {
        const tail = blame ? `\n${blame.name} log (${blame.logFile}):\n${logTail(blame.logFile)}` : '';
        throw new StartError(
          `timed out (start bound ${this.limits.timeoutMs} ms) waiting for ${what}${lastError ? ` (last error: ${lastError})` : ''}${tail}`,
          false,
        );
      }
      await delay(POLL_MS);
    }
  }
}
