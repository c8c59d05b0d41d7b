/** What analyzeReplay takes, and the bounds it keeps to. */
import type { Assertions, Goals } from '../config/replay.js';
import type { ObservedExchange, ResponderStats } from '../model/replay.js';
import type { RRPair } from '../model/traffic.js';
import type { LatencySummary, PerSecond, ReplicaReport, ReportMeta } from '../report/schema.js';

/**
 * What the analyzer needs from the generator's summary. Timing comes from the generator
 * (measured at the source); counts come from the observed stream, so they add up.
 */
export interface GeneratorSummaryInput {
  /** Requests the generator sent; only used to note a mismatch with the observed stream. */
  requests?: number;
  durationMs?: number;
  rps?: number;
  latency?: LatencySummary;
  /** Per-second rows; computed from the observed stream when absent. */
  perSecond?: PerSecond[];
}

export interface AnalyzeLimits {
  /** Failing requests kept in detail; the rest are counted. */
  maxDetailedFailures: number;
  /** Differences kept per failing request. */
  maxDiffsPerRequest: number;
  maxEndpoints: number;
  /** A recorded JSON body longer than this (compact, in characters) is compared by hash. */
  maxJsonChars: number;
  /** Total compact JSON text kept for all recorded pairs. */
  budgetChars: number;
  maxLogLines: number;
  maxLogLineChars: number;
  maxResponderMisses: number;
}

export const DEFAULT_LIMITS: AnalyzeLimits = {
  maxDetailedFailures: 200,
  maxDiffsPerRequest: 50,
  maxEndpoints: 500,
  maxJsonChars: 2 * 1024 * 1024,
  budgetChars: 256 * 1024 * 1024,
  maxLogLines: 500,
  maxLogLineChars: 2000,
  maxResponderMisses: 100,
};

export interface AnalyzeInput {
  /** The snapshot's pairs (outbound ones are skipped). */
  recorded: AsyncIterable<RRPair>;
  observed: AsyncIterable<ObservedExchange>;
  assertions: Assertions;
  goals: Goals;
  generator?: GeneratorSummaryInput;
  /** One row per generator of a split load (load.replicas); `generator` is then their merge. */
  replicas?: ReplicaReport[];
  /** Absent when no responder ran. */
  responder?: ResponderStats;
  meta: ReportMeta;
  logs?: { name: string; lines: readonly string[] }[];
  /** Set when the replay could not run: the verdict is Error with this message. */
  error?: string;
  canceled?: boolean;
  limits?: Partial<AnalyzeLimits>;
  /** Reference time for the timestamp heuristics; default now. */
  now?: Date;
}
