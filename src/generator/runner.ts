/**
 * The dispatch loop: whenever a connection is free and the schedule says the next send is
 * due, take the next request from the shared cursor and send it. In flight is bounded by the
 * connections (one request each); observed lines are written as responses complete; nothing
 * else is kept per request.
 */
import { performance } from 'node:perf_hooks';
import {
  Connection,
  type ConnectionOwner,
  type ConnectionTarget,
  type ReceivedResponse,
} from './connection.js';
import type { Cursor } from './cursor.js';
import { exchangeLine, type ObservedWriter } from './observed-writer.js';
import { responseBody } from './response-body.js';
import type { Schedule } from './schedule.js';
import type { Stats } from './stats.js';
import { PumpWakeups } from './pump-wakeups.js';

export interface RunnerOptions {
  target: ConnectionTarget;
  connections: number;
  timeoutMs: number;
  cursor: Cursor;
  schedule: Schedule;
  /** Stop sending this many ms after the start; absent = when the cursor runs out. */
  durationMs?: number;
  writer: ObservedWriter;
  stats: Stats;
  maxBodyBytes: number;
}

/** While connections ramp up, how often the allowance is looked at again. */
const RAMP_TICK_MS = 50;

/** How often requests are checked against their timeout: a tenth of it, 5 to 100 ms. */
export const sweepEveryMs = (timeoutMs: number) => Math.min(100, Math.max(5, timeoutMs / 10));

export class Runner implements ConnectionOwner {
  startPerf = performance.now();
  startEpoch = Date.now();
  /** Set when cancel() stopped the run. */
  canceled = false;
  private readonly idle: Connection[];
  private readonly all: Connection[];
  private readonly parked = new Set<NodeJS.Timeout>();
  private inFlight = 0;
  private deadline: NodeJS.Timeout | undefined;
  private sweeper: NodeJS.Timeout | undefined;
  private readonly wakeups: PumpWakeups;
  private stopped = false;
  private started = false;
  private finished!: () => void;
  readonly done = new Promise<void>((resolve) => (this.finished = resolve));

  constructor(private readonly o: RunnerOptions) {
    this.wakeups = new PumpWakeups(() => this.pump(), o.writer);
    this.all = Array.from(
      { length: o.connections },
      () => new Connection(o.target, this, o.timeoutMs, o.maxBodyBytes),
    );
    this.idle = [...this.all].reverse();
  }

  start(): void {
    this.started = true;
    this.startPerf = performance.now();
    this.startEpoch = Date.now();
    const { durationMs, cursor, timeoutMs } = this.o;
    this.sweeper = setInterval(() => {
      const now = performance.now();
      for (const conn of this.all) conn.expire(now);
    }, sweepEveryMs(timeoutMs)).unref();
    if (durationMs !== undefined) {
      this.deadline = setTimeout(() => {
        cursor.close();
        this.pump();
      }, durationMs);
    }
    this.pump();
  }

  elapsed(now = performance.now()): number {
    return now - this.startPerf;
  }

  /** Stops at once: requests in flight are cut and recorded as `canceled`. */
  cancel(): void {
    if (this.stopped) return;
    this.canceled = true;
    this.o.cursor.close();
    const now = performance.now();
    for (const conn of this.all) {
      if (!conn.busy) continue;
      this.inFlight--;
      this.record(conn, now, undefined, 'canceled');
    }
    this.finish();
  }

  completed(conn: Connection, response: ReceivedResponse | undefined, error: string | undefined): void {
    this.inFlight--;
    this.record(conn, performance.now(), response, error);
    if (this.stopped) return;
    if (conn.retryAt > performance.now()) this.park(conn);
    else this.idle.push(conn);
    this.pump();
  }

  private record(
    conn: Connection,
    now: number,
    response: ReceivedResponse | undefined,
    error: string | undefined,
  ) {
    const { stats, writer, maxBodyBytes } = this.o;
    const req = conn.request!;
    const latency = now - conn.sentAt;
    const sentElapsed = conn.sentAt - this.startPerf;
    const sentAtMs = this.startEpoch + sentElapsed;
    if (response) {
      stats.recordResponse(response.status, latency, sentElapsed);
      const observed = {
        status: response.status,
        headers: response.headers,
        body: responseBody(response, maxBodyBytes),
      };
      writer.write(exchangeLine(req.observedHead, conn.pass, sentAtMs, latency, { response: observed }));
    } else {
      const kind = error ?? 'unknown';
      stats.recordError(kind, sentElapsed);
      writer.write(exchangeLine(req.observedHead, conn.pass, sentAtMs, latency, { error: kind }));
    }
  }

  /** A connection whose connects fail waits out its backoff before it takes a request again. */
  private park(conn: Connection): void {
    const timer = setTimeout(() => {
      this.parked.delete(timer);
      this.idle.push(conn);
      this.pump();
    }, conn.retryAt - performance.now());
    this.parked.add(timer);
  }

  /** Sends what is due now; also called when a streamed request has been read. */
  pump(): void {
    if (!this.started) return;
    const { cursor, schedule, writer, stats } = this.o;
    while (this.idle.length > 0 && !this.stopped) {
      if (writer.failed) return this.finish();
      if (writer.congested) return this.wakeups.afterDrain();
      // Nothing now: the cursor is exhausted, or calls pump() once the next request is read.
      const next = cursor.peek();
      if (!next) break;
      const { request: req, seq, pass } = next;
      const now = performance.now();
      const elapsed = now - this.startPerf;
      const due = schedule.dueMs(seq, req.offsetMs, pass);
      if (this.o.durationMs !== undefined && Math.max(due, elapsed) >= this.o.durationMs) {
        cursor.close();
        break;
      }
      if (due > elapsed) return this.wakeups.in(due - elapsed);
      if (this.inFlight >= schedule.concurrency(elapsed)) return this.wakeups.in(RAMP_TICK_MS);
      cursor.take();
      const conn = this.idle.pop()!;
      conn.request = req;
      conn.pass = pass;
      this.inFlight++;
      stats.recordSent(elapsed);
      conn.send(req.bytes ?? req.render!({ nowMs: this.startEpoch + elapsed }), req.noBody);
    }
    if (cursor.exhausted && this.inFlight === 0) this.finish();
  }

  private finish(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.wakeups.clear();
    if (this.deadline) clearTimeout(this.deadline);
    clearInterval(this.sweeper);
    for (const timer of this.parked) clearTimeout(timer);
    for (const conn of this.all) conn.destroy();
    this.finished();
  }
}
