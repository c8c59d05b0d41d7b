/**
 * When each send is due, in ms since the run started. Four shapes:
 * - as fast as the connections allow (closed loop): due at once;
 * - fixed rate: send k is due at k / rate, optionally ramping linearly from 0 over `rampUpMs`;
 * - recorded timing / speed: a request is due at its recorded offset / speed, pass after pass
 *   (rampUp does not apply: the recording decides the pace);
 * - ramp-up without a rate: the connections in use grow linearly from 1 to all.
 * The rate is paced per send, not per second: autocannon's overallRate hands each connection a
 * per-second quota that it spends at the start of every second, a burst a second.
 */
export interface Schedule {
  /** Elapsed ms at which send `seq` (request `offsetMs` into its pass `pass`) is due. */
  dueMs(seq: number, offsetMs: number, pass: number): number;
  /** Requests allowed in flight at `elapsedMs`. */
  concurrency(elapsedMs: number): number;
}

export interface ScheduleOptions {
  connections: number;
  /** Requests per second across all connections. */
  rate?: number;
  /** Recorded timing multiplier (2 = twice as fast). */
  speed?: number;
  rampUpMs?: number;
  /** Recorded span of one pass, first to last request. */
  spanMs: number;
  /** Requests in one pass. */
  count: number;
}

export function makeSchedule(o: ScheduleOptions): Schedule {
  const ramp = o.rampUpMs && o.rampUpMs > 0 ? o.rampUpMs : 0;
  const all = () => o.connections;
  if (o.rate !== undefined) {
    const perMs = o.rate / 1000;
    // Sends during a linear ramp from 0 to the rate: n(t) = perMs * t^2 / (2 * ramp).
    const rampSends = (perMs * ramp) / 2;
    return {
      dueMs: (seq) =>
        seq < rampSends ? Math.sqrt((2 * ramp * seq) / perMs) : ramp + (seq - rampSends) / perMs,
      concurrency: all,
    };
  }
  if (o.speed !== undefined) {
    const speed = o.speed;
    // A pass lasts its span plus one mean gap, so the next pass follows at the recorded pace.
    const passMs = o.count > 1 ? o.spanMs + o.spanMs / (o.count - 1) : 0;
    return { dueMs: (_seq, offsetMs, pass) => (pass * passMs + offsetMs) / speed, concurrency: all };
  }
  return {
    dueMs: () => 0,
    concurrency: ramp
      ? (elapsed) => Math.max(1, Math.min(o.connections, Math.ceil((o.connections * elapsed) / ramp)))
      : all,
  };
}
