/**
 * report.json: the result of one replay. A stable, versioned format (docs/report-schema.md
 * documents every field): bump REPORT_VERSION on any incompatible change. Values taken from
 * traffic (paths, urls, previews of bodies) are plain strings here; the HTML escapes them.
 */
import { z } from 'zod';
import { ResponderRequestRecord } from '../model/replay.js';

export const REPORT_VERSION = 1;

const count = z.number().int().nonnegative();
const percent = z.number().min(0).max(100);
const ms = z.number().nonnegative();

export const Verdict = z.enum(['Passed', 'Missed Goals', 'Error', 'Canceled']);
export type Verdict = z.infer<typeof Verdict>;

export const ReplayMode = z.enum(['full-replay', 'generator-only', 'responder-only']);
export type ReplayMode = z.infer<typeof ReplayMode>;

export const DiffKind = z.enum(['changed', 'missing', 'added', 'status', 'header']);
export type DiffKind = z.infer<typeof DiffKind>;

export const NoiseReason = z.enum([
  'differs-between-recordings',
  'looks-like-timestamp',
  'looks-like-uuid',
  'looks-like-random-id',
  'looks-like-jwt',
  'volatile-header',
]);
export type NoiseReason = z.infer<typeof NoiseReason>;

export const NoiseLocation = z.enum(['header', 'body']);
export type NoiseLocation = z.infer<typeof NoiseLocation>;

export const FieldDiff = z.object({
  path: z.string(),
  kind: DiffKind,
  /** JSON text of the recorded value, cut at 200 characters; absent when the recording had none. */
  expected: z.string().optional(),
  /** JSON text of the replayed value, cut likewise; absent when the replay had none. */
  actual: z.string().optional(),
  /** True when the difference does not count: the field is volatile. */
  noise: z.boolean(),
  reason: NoiseReason.optional(),
});
export type FieldDiff = z.infer<typeof FieldDiff>;

export const RequestResult = z.object({
  pairId: z.string(),
  pass: count,
  method: z.string(),
  url: z.string(),
  endpoint: z.string(),
  /** Null when the recording had no response. */
  expectedStatus: z.number().int().nullable(),
  /** Null when the replay got no response (see error). */
  actualStatus: z.number().int().nullable(),
  error: z.string().optional(),
  latencyMs: ms,
  fieldsMatched: count,
  fieldsCompared: count,
  diffs: z.array(FieldDiff),
  diffsOmitted: count,
});
export type RequestResult = z.infer<typeof RequestResult>;

export const LatencySummary = z.object({
  p50: ms,
  p75: ms,
  p90: ms,
  p95: ms,
  p99: ms,
  mean: ms,
  max: ms,
});
export type LatencySummary = z.infer<typeof LatencySummary>;

export const PerSecond = z.object({
  /** Whole seconds since the replay started. */
  t: count,
  requests: count,
  errors: count,
  /** Null in a second with no completed request. */
  p50: ms.nullable(),
  p99: ms.nullable(),
});
export type PerSecond = z.infer<typeof PerSecond>;

export const EndpointReport = z.object({
  /** `METHOD /path/{id}`: the key the other fields are grouped by. */
  endpoint: z.string(),
  method: z.string(),
  path: z.string(),
  requests: count,
  responses: count,
  errors: count,
  passed: count,
  failed: count,
  successRate: percent,
  fieldsMatched: count,
  fieldsCompared: count,
  /** fieldsMatched / fieldsCompared in %; 100 when nothing was compared. */
  accuracy: percent,
  latency: z.object({ p50: ms, p95: ms, p99: ms, mean: ms }),
});
export type EndpointReport = z.infer<typeof EndpointReport>;

export const ResponderReport = z.object({
  match: count,
  noMatch: count,
  passthrough: count,
  total: count,
  /** match / total in %; null when the service made no outbound request. */
  matchRate: percent.nullable(),
  misses: z.array(ResponderRequestRecord),
  missesOmitted: count,
});
export type ResponderReport = z.infer<typeof ResponderReport>;

export const GoalName = z.enum(['successRate', 'assertionPassRate', 'p50Ms', 'p95Ms', 'p99Ms', 'minRps']);
export type GoalName = z.infer<typeof GoalName>;

export const GoalResult = z.object({
  name: GoalName,
  expected: z.number(),
  /** Null when there was nothing to measure (no request completed). */
  actual: z.number().nullable(),
  /** `>=`: actual must reach expected; `<=`: actual must stay at or under it. */
  comparator: z.enum(['>=', '<=']),
  unit: z.enum(['%', 'ms', 'req/s']),
  passed: z.boolean(),
  /** `default` when the user set no goal and this one was applied (see the docs). */
  source: z.enum(['user', 'default']),
});
export type GoalResult = z.infer<typeof GoalResult>;

export const NoiseField = z.object({
  endpoint: z.string(),
  location: NoiseLocation,
  /** Body: a JSON path with `[*]` for array indices; header: the lower-case name. */
  path: z.string(),
  reason: NoiseReason,
  /** A recorded value that made the field look volatile, cut at 80 characters. */
  example: z.string().optional(),
  /** True when assertions.body.forceCompare names it: it was compared anyway. */
  forced: z.boolean(),
});
export type NoiseField = z.infer<typeof NoiseField>;

export const LogSection = z.object({
  name: z.string(),
  lines: z.array(z.string()),
  /** Lines left out to keep the report small. */
  omitted: count,
});
export type LogSection = z.infer<typeof LogSection>;

export const ReportMeta = z.object({
  replayId: z.string(),
  snapshotId: z.string(),
  target: z.string(),
  mode: ReplayMode,
  startedAt: z.string(),
  endedAt: z.string(),
  workflowId: z.string().optional(),
});
export type ReportMeta = z.infer<typeof ReportMeta>;

export const ReportSummary = z.object({
  /** Requests the generator sent (observed exchanges, every pass). */
  requests: count,
  /** Of those, how many got a response (any status). */
  responses: count,
  /** Of those, how many got no response (timeout, refused, reset...). */
  errors: count,
  /** % of requests with a response whose status is below 500. */
  successRate: percent,
  /** % of requests whose assertions all passed (noise ignored). */
  assertionPassRate: percent,
  assertionsPassed: count,
  assertionsFailed: count,
  rps: z.number().nonnegative(),
  durationMs: ms,
  fieldsMatched: count,
  fieldsCompared: count,
  /** fieldsMatched / fieldsCompared in %. */
  accuracy: percent,
  /** Inbound pairs in the snapshot. */
  recordedPairs: count,
  /** Observed exchanges whose pairId named no recorded inbound pair: not asserted. */
  unknownPairs: count,
});
export type ReportSummary = z.infer<typeof ReportSummary>;

/** One generator of a split load (load.replicas): what it sent. */
export const ReplicaReport = z.object({
  /** `2/4`: replica 2 of 4. */
  replica: z.string(),
  requests: count,
  errors: count,
  /** Requests sent per second over this replica's own run. */
  rps: z.number().nonnegative(),
  durationMs: ms,
  startedAt: z.string().optional(),
  /** Why this replica failed; its traffic is missing from the rest of the report. */
  failure: z.string().optional(),
});
export type ReplicaReport = z.infer<typeof ReplicaReport>;

export const Report = z.object({
  reportVersion: z.literal(REPORT_VERSION),
  generatedAt: z.string(),
  verdict: Verdict,
  /** One sentence: why this verdict. */
  verdictReason: z.string(),
  meta: ReportMeta,
  summary: ReportSummary,
  latency: LatencySummary,
  perSecond: z.array(PerSecond),
  /** One row per generator when the load was split between several (load.replicas). */
  replicas: z.array(ReplicaReport).optional(),
  /** Requests with no response, by kind (`timeout`, `ECONNREFUSED`, ...). */
  errorsByKind: z.record(z.string(), count),
  /** Most requests first. */
  endpoints: z.array(EndpointReport),
  endpointsOmitted: count,
  /** Null when no responder ran (generator-only). */
  responder: ResponderReport.nullable(),
  goals: z.array(GoalResult),
  noise: z.array(NoiseField),
  /** Failing requests in detail, in the order they completed. */
  diffs: z.array(RequestResult),
  /** Failing requests beyond the detailed ones: counted only. */
  diffsOmitted: count,
  logs: z.array(LogSection),
  /** Things the reader should know about how the numbers were made (budgets hit, ...). */
  notes: z.array(z.string()),
});
export type Report = z.infer<typeof Report>;
