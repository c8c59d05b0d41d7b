/**
 * Accumulators for the numbers in the report: latency histograms (the generator's kind,
 * src/base/latency-histogram.ts), the per-second series, and per-endpoint rows. Each holds
 * bounded state whatever the number of requests.
 */
import { LatencyHistogram } from '../base/latency-histogram.js';
import { round2 } from '../base/round.js';
import type { ObservedExchange } from '../model/replay.js';
import type { EndpointReport, LatencySummary, PerSecond } from '../report/schema.js';
import type { Comparison } from './compare.js';

/** `n / d` in %, cut (not rounded) to 2 decimals so 99.996 never shows as a passing 100. */
export function percent(n: number, d: number): number {
  return d === 0 ? 0 : Math.floor((n / d) * 10000) / 100;
}

/** A histogram's latency summary, as the report carries it. */
export function latencySummary(h: LatencyHistogram): LatencySummary {
  return {
    p50: h.at(50),
    p75: h.at(75),
    p90: h.at(90),
    p95: h.at(95),
    p99: h.at(99),
    mean: h.mean,
    max: h.max,
  };
}

/** Samples kept per second for its p50/p99: enough for a chart, bounded for long replays. */
const SAMPLES_PER_SECOND = 256;

interface Bucket {
  requests: number;
  errors: number;
  samples: number[];
  /** Latencies seen in this second, for reservoir sampling. */
  seen: number;
}

/** A deterministic generator so the same replay gives the same report. */
function lcg(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function quantile(sorted: readonly number[], q: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

export class PerSecondSeries {
  private readonly buckets = new Map<number, Bucket>();
  private readonly random = lcg(7);

  constructor(private readonly startMs: number) {}

  add(sentAtMs: number, latencyMs: number, error: boolean): void {
    const t = Math.max(0, Math.floor((sentAtMs - this.startMs) / 1000));
    let b = this.buckets.get(t);
    if (!b) this.buckets.set(t, (b = { requests: 0, errors: 0, samples: [], seen: 0 }));
    b.requests++;
    if (error) {
      b.errors++;
      return;
    }
    b.seen++;
    if (b.samples.length < SAMPLES_PER_SECOND) b.samples.push(latencyMs);
    else {
      const j = Math.floor(this.random() * b.seen);
      if (j < SAMPLES_PER_SECOND) b.samples[j] = latencyMs;
    }
  }

  /** One row per second from 0 to the last, empty seconds included (a gap is information). */
  rows(): PerSecond[] {
    if (this.buckets.size === 0) return [];
    const last = Math.max(...this.buckets.keys());
    const rows: PerSecond[] = [];
    for (let t = 0; t <= last; t++) {
      const b = this.buckets.get(t);
      const sorted = b ? [...b.samples].sort((x, y) => x - y) : [];
      rows.push({
        t,
        requests: b?.requests ?? 0,
        errors: b?.errors ?? 0,
        p50: sorted.length ? round2(quantile(sorted, 0.5)) : null,
        p99: sorted.length ? round2(quantile(sorted, 0.99)) : null,
      });
    }
    return rows;
  }
}

/** Running totals for one endpoint (or, as `total`, for the whole replay). */
export class EndpointStats {
  requests = 0;
  responses = 0;
  errors = 0;
  succeeded = 0;
  passed = 0;
  failed = 0;
  fieldsMatched = 0;
  fieldsCompared = 0;
  readonly latency = new LatencyHistogram({ packed: true });

  constructor(readonly endpoint: string) {}

  /** One exchange; `cmp` is undefined when it could not be compared (no recording). */
  record(ob: ObservedExchange, cmp: Comparison | undefined): boolean {
    this.requests++;
    if (ob.response) {
      this.responses++;
      this.latency.record(ob.latencyMs);
      if (ob.response.status < 500) this.succeeded++;
    } else this.errors++;
    if (cmp) {
      this.fieldsMatched += cmp.matched;
      this.fieldsCompared += cmp.compared;
    }
    const passed = cmp !== undefined && cmp.diffs.every((d) => d.noise);
    if (passed) this.passed++;
    else this.failed++;
    return passed;
  }

  toReport(): EndpointReport {
    const space = this.endpoint.indexOf(' ');
    return {
      endpoint: this.endpoint,
      method: space > 0 ? this.endpoint.slice(0, space) : '',
      path: space > 0 ? this.endpoint.slice(space + 1) : this.endpoint,
      requests: this.requests,
      responses: this.responses,
      errors: this.errors,
      passed: this.passed,
      failed: this.failed,
      successRate: percent(this.succeeded, this.requests),
      fieldsMatched: this.fieldsMatched,
      fieldsCompared: this.fieldsCompared,
      accuracy: this.fieldsCompared === 0 ? 100 : percent(this.fieldsMatched, this.fieldsCompared),
      latency: {
        p50: this.latency.at(50),
        p95: this.latency.at(95),
        p99: this.latency.at(99),
        mean: this.latency.mean,
      },
    };
  }
}

/** Per-endpoint rows, bounded: past `max` endpoints the rest share one `(other)` row. */
export class EndpointTable {
  private readonly rows = new Map<string, EndpointStats>();
  private overflow: EndpointStats | undefined;
  /** Distinct endpoints folded into `(other)`. */
  private readonly folded = new Set<string>();

  constructor(private readonly max: number) {}

  get(endpoint: string): EndpointStats {
    const row = this.rows.get(endpoint);
    if (row) return row;
    if (this.rows.size < this.max) {
      const created = new EndpointStats(endpoint);
      this.rows.set(endpoint, created);
      return created;
    }
    if (this.folded.size < 100_000) this.folded.add(endpoint);
    return (this.overflow ??= new EndpointStats('(other)'));
  }

  report(): { endpoints: EndpointReport[]; omitted: number } {
    const endpoints = [...this.rows.values()].map((r) => r.toReport());
    endpoints.sort((a, b) => b.requests - a.requests || a.endpoint.localeCompare(b.endpoint));
    if (this.overflow) endpoints.push(this.overflow.toReport());
    return { endpoints, omitted: this.folded.size };
  }
}
