/**
 * Many generators, one report: the summaries of a split load's replicas merged into the one the
 * analyzer reads (counts added, latency histograms merged, the run spanning first start to last
 * end), and one row per replica. A failed replica has no summary: its row names the failure.
 */
import { LatencyHistogram } from '../base/latency-histogram.js';
import { round2 } from '../base/round.js';
import type { ReplicaReport } from '../report/schema.js';
import type { GeneratorSummaryInput } from './input.js';
import { latencySummary } from './summarize.js';

/** What the analyzer needs of one replica's generator summary. */
export interface ReplicaSummary {
  startedAt: string;
  requests: number;
  responses: number;
  errors: number;
  durationMs: number;
  rps: number;
  /** HdrHistogram-encoded latencies (src/base/latency-histogram.ts). */
  latencyHistogram?: string;
}

export interface ReplicaOutcome {
  /** `2/4`. */
  replica: string;
  summary?: ReplicaSummary;
  /** Set when the replica failed (no summary). */
  failure?: string;
}

/** One summary over the replicas that finished; undefined when none did. */
export function mergeReplicaSummaries(
  outcomes: readonly ReplicaOutcome[],
): GeneratorSummaryInput | undefined {
  const done = outcomes.flatMap((o) => (o.summary ? [o.summary] : []));
  if (!done.length) return undefined;
  const latency = new LatencyHistogram();
  let histograms = 0;
  for (const s of done) {
    if (!s.latencyHistogram) continue;
    latency.addEncoded(s.latencyHistogram);
    histograms++;
  }
  const start = Math.min(...done.map((s) => Date.parse(s.startedAt)));
  const end = Math.max(...done.map((s) => Date.parse(s.startedAt) + s.durationMs));
  const requests = done.reduce((n, s) => n + s.requests, 0);
  const durationMs = Number.isFinite(end - start) ? Math.max(0, end - start) : 0;
  return {
    requests,
    durationMs,
    rps: durationMs > 0 ? round2((requests * 1000) / durationMs) : 0,
    // Without every histogram the merge would be partial: the observed stream decides then.
    ...(histograms === done.length ? { latency: latencySummary(latency) } : {}),
  };
}

export function replicaRows(outcomes: readonly ReplicaOutcome[]): ReplicaReport[] {
  return outcomes.map(({ replica, summary, failure }) => ({
    replica,
    requests: summary?.requests ?? 0,
    errors: summary?.errors ?? 0,
    rps: summary?.rps ?? 0,
    durationMs: summary?.durationMs ?? 0,
    ...(summary ? { startedAt: summary.startedAt } : {}),
    ...(failure !== undefined ? { failure } : {}),
  }));
}
