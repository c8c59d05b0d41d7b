/**
 * analyzeReplay: recorded inbound pairs + what the generator observed -> the Report.
 * Reads both streams once. The recorded side is indexed first (compact expectations and
 * noise), then each observed exchange is compared as it streams by; only counters,
 * histograms and the first failing requests in detail are kept.
 */
import { REPORT_VERSION, type Report } from '../report/schema.js';
import { boundLogs, responderReport } from './bounded.js';
import { decideVerdict, effectiveGoals, evaluateGoals, type GoalActuals } from './goals.js';
import { DEFAULT_LIMITS, type AnalyzeInput } from './input.js';
import { parsePattern, type PathPattern } from './jsonpath.js';
import { NoiseRegistry } from './noise.js';
import { ObservedPass } from './observed.js';
import { indexRecordings } from './recordings.js';
import { round2 } from '../base/round.js';
import { latencySummary, percent } from './summarize.js';

/** forceCompare holds JSON paths (`$.createdAt`) and, prefixed with `header:`, header names (`header:etag`). */
function splitForceCompare(entries: readonly string[]): { body: PathPattern[]; headers: Set<string> } {
  const body: PathPattern[] = [];
  const headers = new Set<string>();
  for (const e of entries) {
    if (e.startsWith('header:')) headers.add(e.slice('header:'.length).trim().toLowerCase());
    else body.push(parsePattern(e));
  }
  return { body, headers };
}

export async function analyzeReplay(input: AnalyzeInput): Promise<Report> {
  const limits = { ...DEFAULT_LIMITS, ...input.limits };
  const { assertions, meta } = input;
  const force = splitForceCompare(assertions.body.forceCompare);
  const ignore = assertions.body.ignore.map(parsePattern);
  const headers = assertions.headers.map((h) => h.toLowerCase());
  const noise = new NoiseRegistry({
    enabled: assertions.body.autoNoise,
    forceBody: force.body,
    forceHeaders: force.headers,
  });
  const index = await indexRecordings(input.recorded, {
    headerNames: headers,
    compareBodies: assertions.body.enabled,
    noise,
    maxJsonChars: limits.maxJsonChars,
    budgetChars: limits.budgetChars,
    now: (input.now ?? new Date()).getTime(),
  });

  const startMs = Date.parse(meta.startedAt);
  const pass = new ObservedPass({
    index,
    rulesFor: (endpoint) => noise.rulesFor(endpoint, ignore),
    assertions: { status: assertions.status, headers },
    limits,
    startMs,
  });
  for await (const ob of input.observed) pass.add(ob);
  const t = pass.total;

  const gen = input.generator ?? {};
  const span = Date.parse(meta.endedAt) - startMs;
  const measuredSpan = t.requests ? pass.lastDoneMs - pass.firstSentMs : 0;
  const durationMs = round2(gen.durationMs ?? (Number.isFinite(span) && span > 0 ? span : measuredSpan));
  const rps = round2(gen.rps ?? (durationMs > 0 ? (t.requests * 1000) / durationMs : 0));
  // Copied field by field: the report carries exactly its schema, whatever else was passed.
  const { p50, p75, p90, p95, p99, mean, max } = gen.latency ?? latencySummary(t.latency);
  const latency = { p50, p75, p90, p95, p99, mean, max };
  const successRate = percent(t.succeeded, t.requests);
  const assertionPassRate = percent(t.passed, t.requests);

  const sent = t.requests > 0;
  const answered = t.responses > 0;
  const actuals: GoalActuals = {
    successRate: sent ? successRate : null,
    assertionPassRate: sent ? assertionPassRate : null,
    p50Ms: answered ? latency.p50 : null,
    p95Ms: answered ? latency.p95 : null,
    p99Ms: answered ? latency.p99 : null,
    rps: sent ? rps : null,
  };
  // Defaults only make sense for a replay that sent something (else the verdict is Error).
  const recordedSuccessRate = index.pairs === 0 ? 100 : percent(index.succeeded, index.pairs);
  const { goals, source } = sent
    ? effectiveGoals(input.goals, recordedSuccessRate)
    : { goals: input.goals, source: 'user' as const };
  const goalResults = evaluateGoals(goals, actuals, source);
  const { verdict, reason } = decideVerdict({
    goals: goalResults,
    requests: t.requests,
    mode: meta.mode,
    error: input.error,
    canceled: input.canceled,
  });

  const notes = [...index.notes];
  if (pass.unknown > 0) {
    notes.push(
      `${pass.unknown} replayed requests named no recorded inbound pair; they count as failed assertions.`,
    );
  }
  if (gen.requests !== undefined && gen.requests !== t.requests) {
    notes.push(
      `The generator reports ${gen.requests} requests sent; ${t.requests} were observed and analysed.`,
    );
  }
  if (noise.dropped > 0)
    notes.push(`${noise.dropped} further noise fields were not listed (too many distinct paths).`);
  const endpoints = pass.endpoints.report();

  return {
    reportVersion: REPORT_VERSION,
    generatedAt: new Date().toISOString(),
    verdict,
    verdictReason: reason,
    meta: {
      replayId: meta.replayId,
      snapshotId: meta.snapshotId,
      target: meta.target,
      mode: meta.mode,
      startedAt: meta.startedAt,
      endedAt: meta.endedAt,
      ...(meta.workflowId === undefined ? {} : { workflowId: meta.workflowId }),
    },
    summary: {
      requests: t.requests,
      responses: t.responses,
      errors: t.errors,
      successRate,
      assertionPassRate,
      assertionsPassed: t.passed,
      assertionsFailed: t.failed,
      rps,
      durationMs,
      fieldsMatched: t.fieldsMatched,
      fieldsCompared: t.fieldsCompared,
      accuracy: t.fieldsCompared === 0 ? 100 : percent(t.fieldsMatched, t.fieldsCompared),
      recordedPairs: index.pairs,
      unknownPairs: pass.unknown,
    },
    latency,
    perSecond: gen.perSecond ?? pass.perSecond(),
    ...(input.replicas ? { replicas: input.replicas } : {}),
    errorsByKind: pass.errorsByKind,
    endpoints: endpoints.endpoints,
    endpointsOmitted: endpoints.omitted,
    responder: responderReport(input.responder, limits),
    goals: goalResults,
    noise: noise.list(),
    diffs: pass.failures,
    diffsOmitted: pass.failuresOmitted,
    logs: boundLogs(input.logs, limits),
    notes,
  };
}

export type { AnalyzeInput, AnalyzeLimits, GeneratorSummaryInput } from './input.js';
export { DEFAULT_LIMITS } from './input.js';
