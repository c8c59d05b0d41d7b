/**
 * Counters and latency for one run: an HDR histogram over every response, and one row per
 * second of sending (requests sent in that second, how many failed, their p50/p99), the rows
 * a latency-over-time chart is drawn from. Latency counts responses only; a request without a
 * response is an error of its kind (`timeout` included). A second's row is closed as soon as
 * its last request has completed, so only the last few seconds are ever open.
 */
import { LatencyHistogram } from '../base/latency-histogram.js';

export interface LatencyStats {
  min: number;
  mean: number;
  p50: number;
  p75: number;
  p90: number;
  p95: number;
  p99: number;
  max: number;
}

export interface SecondStats {
  /** Whole seconds since the run started. */
  t: number;
  requests: number;
  errors: number;
  p50: number | null;
  p99: number | null;
}

interface OpenSecond {
  requests: number;
  errors: number;
  outstanding: number;
  latency: LatencyHistogram;
}

export class Stats {
  sent = 0;
  responses = 0;
  errors = 0;
  timeouts = 0;
  readonly errorsByKind: Record<string, number> = {};
  readonly statusCounts: Record<string, number> = {};

  private readonly latency = new LatencyHistogram();
  private readonly open = new Map<number, OpenSecond>();
  private readonly closed: SecondStats[] = [];
  private readonly spare: LatencyHistogram[] = [];
  private lastSentSecond = -1;

  /** A request went out `elapsedMs` into the run. */
  recordSent(elapsedMs: number): void {
    this.sent++;
    const t = Math.floor(elapsedMs / 1000);
    if (t > this.lastSentSecond) {
      this.lastSentSecond = t;
      for (const [u, done] of this.open) if (done.outstanding === 0) this.close(u, done);
    }
    let second = this.open.get(t);
    if (!second) {
      second = {
        requests: 0,
        errors: 0,
        outstanding: 0,
        latency: this.spare.pop() ?? new LatencyHistogram(),
      };
      this.open.set(t, second);
    }
    second.requests++;
    second.outstanding++;
  }

  recordResponse(status: number, latencyMs: number, sentElapsedMs: number): void {
    this.responses++;
    this.statusCounts[status] = (this.statusCounts[status] ?? 0) + 1;
    this.latency.record(latencyMs);
    const t = Math.floor(sentElapsedMs / 1000);
    const second = this.open.get(t);
    if (!second) return;
    second.latency.record(latencyMs);
    this.settle(t, second);
  }

  recordError(kind: string, sentElapsedMs: number): void {
    this.errors++;
    if (kind === 'timeout') this.timeouts++;
    this.errorsByKind[kind] = (this.errorsByKind[kind] ?? 0) + 1;
    const t = Math.floor(sentElapsedMs / 1000);
    const second = this.open.get(t);
    if (!second) return;
    second.errors++;
    this.settle(t, second);
  }

  get completed(): number {
    return this.responses + this.errors;
  }

  latencySummary(): LatencyStats {
    const h = this.latency;
    return {
      min: h.min,
      mean: h.mean,
      p50: h.at(50),
      p75: h.at(75),
      p90: h.at(90),
      p95: h.at(95),
      p99: h.at(99),
      max: h.max,
    };
  }

  /** The whole run's latencies, encoded: replicas' histograms are merged by the analyzer. */
  encodedLatency(): string {
    return this.latency.encode();
  }

  /** One row per second from 0 to the last second with a send, empty seconds included. */
  perSecond(): SecondStats[] {
    for (const [t, second] of [...this.open]) this.close(t, second);
    const byT = new Map(this.closed.map((row) => [row.t, row]));
    const rows: SecondStats[] = [];
    for (let t = 0; t <= this.lastSentSecond; t++)
      rows.push(byT.get(t) ?? { t, requests: 0, errors: 0, p50: null, p99: null });
    return rows;
  }

  private settle(t: number, second: OpenSecond): void {
    // Rows of earlier seconds with nothing in flight will never change again.
    if (--second.outstanding === 0 && t < this.lastSentSecond) this.close(t, second);
  }

  private close(t: number, second: OpenSecond): void {
    const h = second.latency;
    const some = h.count > 0;
    this.closed.push({
      t,
      requests: second.requests,
      errors: second.errors,
      p50: some ? h.at(50) : null,
      p99: some ? h.at(99) : null,
    });
    this.open.delete(t);
    h.reset();
    this.spare.push(h);
  }
}

/** The summary members both generators (HTTP/1.1 and gRPC) take from their stats. */
export function statsSummary(stats: Stats, durationMs: number) {
  return {
    requests: stats.sent,
    responses: stats.responses,
    errors: stats.errors,
    timeouts: stats.timeouts,
    errorsByKind: stats.errorsByKind,
    durationMs,
    rps: durationMs > 0 ? Math.round((stats.sent / durationMs) * 100_000) / 100 : 0,
    latency: stats.latencySummary(),
    perSecond: stats.perSecond(),
    statusCounts: stats.statusCounts,
  };
}
