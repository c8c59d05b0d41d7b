/**
 * The generator for HTTP/2 recordings: replays the recorded inbound requests (gRPC calls and
 * plain HTTP/2) over HTTP/2 connections (multiplexed streams, bounded per connection) with the
 * same rate control as HTTP/1.1 (schedule.ts: fast, fixed rate, recorded timing, ramp-up), and
 * writes one observed line per request, in the recording's form (observed-call.ts).
 */
import { performance } from 'node:perf_hooks';
import { childLog } from '../../base/log.js';
import { exchangeLine, type ObservedWriter } from '../observed-writer.js';
import type { Schedule } from '../schedule.js';
import type { Stats } from '../stats.js';
import { CallReceiver } from './observed-call.js';
import type { PlannedCall } from './grpc-plan.js';
import { PooledSession } from './session-pool.js';
import { PumpWakeups } from '../pump-wakeups.js';
import { sweepEveryMs } from '../runner.js';
import type { H2ClientConnection, StreamHandler } from './client-connection.js';

const log = childLog('generator');
const RAMP_TICK_MS = 50;
/** A response message bigger than this (decompressed) is kept raw, not decoded. */
const MAX_MESSAGE_BYTES = 4 << 20;

/** One call in flight: where it went, and what it has received. */
interface OpenCall {
  conn: H2ClientConnection;
  id: number;
  sentAt: number;
}

export interface H2RunnerOptions {
  target: { host: string; port: number; tls: boolean };
  calls: readonly PlannedCall[];
  passes: number;
  connections: number;
  streamsPerConnection: number;
  timeoutMs: number;
  schedule: Schedule;
  durationMs?: number;
  writer: ObservedWriter;
  stats: Stats;
  maxBodyBytes: number;
}

export class H2Runner {
  startPerf = performance.now();
  startEpoch = Date.now();
  canceled = false;
  seq = 0;
  private readonly pool: PooledSession[];
  private readonly open = new Set<OpenCall>();
  private closed = false;
  private stopped = false;
  private deadline: NodeJS.Timeout | undefined;
  private sweeper: NodeJS.Timeout | undefined;
  private readonly wakeups: PumpWakeups;
  private finished!: () => void;
  readonly done = new Promise<void>((resolve) => (this.finished = resolve));

  constructor(private readonly o: H2RunnerOptions) {
    this.wakeups = new PumpWakeups(() => this.pump(), o.writer);
    this.pool = Array.from(
      { length: o.connections },
      () => new PooledSession(o.target, o.streamsPerConnection, () => this.pump()),
    );
  }

  start(): void {
    this.startPerf = performance.now();
    this.startEpoch = Date.now();
    this.sweeper = setInterval(() => {
      const now = performance.now();
      for (const c of this.open) if (now - c.sentAt >= this.o.timeoutMs) c.conn.cancel(c.id, 'timeout');
    }, sweepEveryMs(this.o.timeoutMs)).unref();
    if (this.o.durationMs !== undefined) {
      this.deadline = setTimeout(() => {
        this.closed = true;
        this.pump();
      }, this.o.durationMs);
    }
    this.pump();
  }

  elapsed(): number {
    return performance.now() - this.startPerf;
  }

  get passesStarted(): number {
    return Math.ceil(this.seq / Math.max(1, this.o.calls.length));
  }

  cancel(): void {
    if (this.stopped) return;
    this.canceled = true;
    this.closed = true;
    // Each cut stream still writes its `canceled` line; the run ends when the last one closes.
    for (const c of [...this.open]) c.conn.cancel(c.id, 'canceled');
    if (this.open.size === 0) this.finish();
  }

  private get exhausted(): boolean {
    const n = this.o.calls.length;
    return this.closed || n === 0 || this.seq >= n * this.o.passes;
  }

  private pump(): void {
    if (this.stopped) return;
    const { calls, schedule, writer } = this.o;
    while (!this.exhausted) {
      if (writer.failed) return this.finish();
      if (writer.congested) return this.wakeups.afterDrain();
      const seq = this.seq;
      const call = calls[seq % calls.length];
      const pass = Math.floor(seq / calls.length);
      const elapsed = this.elapsed();
      const due = schedule.dueMs(seq, call.offsetMs, pass);
      if (this.o.durationMs !== undefined && Math.max(due, elapsed) >= this.o.durationMs) {
        this.closed = true;
        break;
      }
      if (due > elapsed) return this.wakeups.in(due - elapsed);
      const session = this.pick(schedule.concurrency(elapsed));
      if (!session) return this.open.size === 0 ? this.wakeups.in(RAMP_TICK_MS) : undefined;
      this.seq++;
      this.send(session, call, pass, elapsed);
    }
    if (this.exhausted && this.open.size === 0) this.finish();
  }

  /** The least busy usable session among the first `allowed`, or none with room. */
  private pick(allowed: number): PooledSession | undefined {
    const now = performance.now();
    let best: PooledSession | undefined;
    for (let i = 0; i < Math.min(allowed, this.pool.length); i++) {
      const s = this.pool[i];
      if (s.retryAt > now || s.capacity <= 0) continue;
      if (!best || s.inFlight < best.inFlight) best = s;
    }
    return best;
  }

  private send(pooled: PooledSession, call: PlannedCall, pass: number, sentElapsed: number): void {
    const { stats, writer, maxBodyBytes } = this.o;
    stats.recordSent(sentElapsed);
    const sentAt = performance.now();
    const receiver = new CallReceiver(sentAt, maxBodyBytes);
    const conn = pooled.open();
    const handler: StreamHandler = {
      onHeaders: (status, headers) => {
        receiver.status = status;
        receiver.headers = headers;
      },
      onData: (chunk, now) => receiver.data(chunk, now),
      onTrailers: (trailers) => (receiver.trailers = trailers),
      onClose: (error) => {
        const latency = performance.now() - sentAt;
        pooled.inFlight--;
        this.open.delete(open);
        const sentAtMs = this.startEpoch + sentElapsed;
        if (error) {
          stats.recordError(error, sentElapsed);
          writer.write(exchangeLine(call.observedHead, pass, sentAtMs, latency, { error }));
        } else {
          const response = call.grpc
            ? receiver.observed(MAX_MESSAGE_BYTES)
            : receiver.httpResponse(maxBodyBytes);
          stats.recordResponse(response.status, latency, sentElapsed);
          writer.write(exchangeLine(call.observedHead, pass, sentAtMs, latency, { response }));
        }
        if (!this.stopped) this.pump();
      },
    };
    const open: OpenCall = { conn, id: 0, sentAt };
    pooled.inFlight++;
    this.open.add(open);
    open.id = conn.request(call.render ? call.render(Date.now()) : call.frames, handler);
  }

  private finish(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.wakeups.clear();
    if (this.deadline) clearTimeout(this.deadline);
    clearInterval(this.sweeper);
    for (const s of this.pool) s.destroy();
    log.debug({ sent: this.seq }, 'HTTP/2 runner finished');
    this.finished();
  }
}
