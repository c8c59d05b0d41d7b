/**
 * The generator for gRPC recordings: replays the recorded inbound calls over HTTP/2 sessions
 * (multiplexed streams, bounded per session) with the same rate control as HTTP/1.1 (schedule.ts:
 * fast, fixed rate, recorded timing, ramp-up), and writes one observed line per call, in the
 * recording's decoded form (observed-call.ts).
 */
import http2, { type ClientHttp2Stream } from 'node:http2';
import { performance } from 'node:perf_hooks';
import { childLog } from '../../base/log.js';
import { exchangeLine, type ObservedWriter } from '../observed-writer.js';
import type { Schedule } from '../schedule.js';
import type { Stats } from '../stats.js';
import { CallReceiver, headerList } from './observed-call.js';
import type { PlannedCall } from './grpc-plan.js';
import { PooledSession } from './session-pool.js';
import { PumpWakeups } from '../pump-wakeups.js';

const log = childLog('generator');
const RAMP_TICK_MS = 50;
/** A response message bigger than this (decompressed) is kept raw, not decoded. */
const MAX_MESSAGE_BYTES = 4 << 20;

export interface GrpcRunnerOptions {
  origin: string;
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

export class GrpcRunner {
  startPerf = performance.now();
  startEpoch = Date.now();
  canceled = false;
  seq = 0;
  private readonly pool: PooledSession[];
  private readonly open = new Set<ClientHttp2Stream>();
  private closed = false;
  private stopped = false;
  private deadline: NodeJS.Timeout | undefined;
  private readonly wakeups: PumpWakeups;
  private finished!: () => void;
  readonly done = new Promise<void>((resolve) => (this.finished = resolve));

  constructor(private readonly o: GrpcRunnerOptions) {
    this.wakeups = new PumpWakeups(() => this.pump(), o.writer);
    this.pool = Array.from(
      { length: o.connections },
      () => new PooledSession(o.origin, o.streamsPerConnection, () => this.pump()),
    );
  }

  start(): void {
    this.startPerf = performance.now();
    this.startEpoch = Date.now();
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
    for (const stream of this.open) stream.emit('reprise-cancel');
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
    const { stats, writer, timeoutMs, maxBodyBytes } = this.o;
    stats.recordSent(sentElapsed);
    const sentAt = performance.now();
    const receiver = new CallReceiver(sentAt, maxBodyBytes);
    let error: string | undefined;
    let stream: ClientHttp2Stream;
    try {
      stream = pooled.open().request(call.headers, { endStream: false });
    } catch (err) {
      const kind = (err as NodeJS.ErrnoException).code ?? 'ECONNRESET';
      stats.recordError(kind, sentElapsed);
      writer.write(exchangeLine(call.observedHead, pass, this.startEpoch + sentElapsed, 0, { error: kind }));
      return;
    }
    pooled.inFlight++;
    this.open.add(stream);
    stream.setTimeout(timeoutMs, () => {
      error ??= 'timeout';
      stream.close(http2.constants.NGHTTP2_CANCEL);
    });
    stream.once('reprise-cancel', () => {
      error ??= 'canceled';
      stream.close(http2.constants.NGHTTP2_CANCEL);
    });
    stream.on('response', (headers) => {
      receiver.status = Number(headers[':status'] ?? 0);
      receiver.headers = headerList(headers);
    });
    stream.on('data', (chunk: Buffer) => receiver.data(chunk, performance.now()));
    stream.on('trailers', (trailers) => (receiver.trailers = headerList(trailers)));
    stream.on('error', (err: NodeJS.ErrnoException) => {
      // A stream cut by its session's failure carries that failure (ECONNREFUSED, ...) as cause.
      const cause = (err.cause as NodeJS.ErrnoException | undefined)?.code;
      error ??= cause ?? pooled.connectError ?? err.code ?? 'ECONNRESET';
    });
    stream.once('close', () => {
      const latency = performance.now() - sentAt;
      pooled.inFlight--;
      this.open.delete(stream);
      const complete = receiver.status > 0 && (receiver.trailers !== undefined || !stream.rstCode);
      error ??= complete ? undefined : (pooled.connectError ?? 'ECONNRESET');
      const sentAtMs = this.startEpoch + sentElapsed;
      if (error) {
        stats.recordError(error, sentElapsed);
        writer.write(exchangeLine(call.observedHead, pass, sentAtMs, latency, { error }));
      } else {
        const response = receiver.observed(MAX_MESSAGE_BYTES);
        stats.recordResponse(response.status, latency, sentElapsed);
        writer.write(exchangeLine(call.observedHead, pass, sentAtMs, latency, { response }));
      }
      if (!this.stopped) this.pump();
    });
    stream.end(call.body);
  }

  private finish(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.wakeups.clear();
    if (this.deadline) clearTimeout(this.deadline);
    for (const s of this.pool) s.destroy();
    log.debug({ sent: this.seq }, 'gRPC runner finished');
    this.finished();
  }
}
