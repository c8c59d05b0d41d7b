/**
 * The pass over the observed stream: each exchange is compared with its recording and
 * counted (overall, per endpoint, per second); only the first failures are kept in detail.
 */
import type { Assertions } from '../config/replay.js';
import type { ObservedExchange } from '../model/replay.js';
import type { RequestResult } from '../report/schema.js';
import {
  ComparisonBuilder,
  compareBody,
  compareHeaders,
  compareStatus,
  type CompareRules,
  type Comparison,
} from './compare.js';
import { endpointKey } from './endpoint.js';
import { observedGrpcBody } from './grpc-compare.js';
import type { AnalyzeLimits } from './input.js';
import type { Expectation, RecordingIndex } from './recordings.js';
import { round2 } from '../base/round.js';
import { EndpointStats, EndpointTable, PerSecondSeries } from './summarize.js';

export function compareExchange(
  exp: Expectation,
  ob: ObservedExchange,
  assertions: Pick<Assertions, 'status' | 'headers'>,
  rules: CompareRules,
): Comparison {
  const out = new ComparisonBuilder(rules);
  // No response fails whatever is asserted; a recording without one can only match that.
  if (!ob.response) return compareStatus(exp.status, null, out);
  if (assertions.status || exp.status === null) compareStatus(exp.status, ob.response.status, out);
  if (exp.status === null) return out.result;
  compareHeaders(exp.headers, ob.response.headers, assertions.headers, out);
  if (exp.body) compareBody(exp.body, observedGrpcBody(ob.response) ?? ob.response.body, out);
  return out.result;
}

function pathOf(url: string): string {
  try {
    return new URL(url, 'http://x').pathname;
  } catch {
    return url;
  }
}

export interface ObservedPassOptions {
  index: RecordingIndex;
  /** Comparison rules (ignores, noise) for responses of an endpoint. */
  rulesFor(endpoint: string): CompareRules;
  /** Asserted header names, lower case. */
  assertions: Pick<Assertions, 'status' | 'headers'>;
  limits: AnalyzeLimits;
  /** The replay's start (epoch ms) for the per-second series; NaN = the first request's. */
  startMs: number;
}

export class ObservedPass {
  readonly total = new EndpointStats('*');
  readonly endpoints: EndpointTable;
  readonly errorsByKind: Record<string, number> = {};
  readonly failures: RequestResult[] = [];
  /** Exchanges whose pairId named no recorded inbound pair. */
  unknown = 0;
  firstSentMs = Infinity;
  lastDoneMs = -Infinity;
  private series: PerSecondSeries | undefined;
  private readonly rules = new Map<string, CompareRules>();

  constructor(private readonly opts: ObservedPassOptions) {
    this.endpoints = new EndpointTable(opts.limits.maxEndpoints);
  }

  add(ob: ObservedExchange): void {
    const sentMs = Date.parse(ob.sentAt);
    this.firstSentMs = Math.min(this.firstSentMs, sentMs);
    this.lastDoneMs = Math.max(this.lastDoneMs, sentMs + ob.latencyMs);
    this.series ??= new PerSecondSeries(Number.isFinite(this.opts.startMs) ? this.opts.startMs : sentMs);
    this.series.add(sentMs, ob.latencyMs, !ob.response);
    if (!ob.response) {
      const kind = ob.error || 'unknown';
      this.errorsByKind[kind] = (this.errorsByKind[kind] ?? 0) + 1;
    }

    const exp = this.opts.index.byId.get(ob.pairId);
    if (!exp) this.unknown++;
    const endpoint = exp?.endpoint ?? endpointKey(ob.request.method, pathOf(ob.request.url));
    const cmp = exp && compareExchange(exp, ob, this.opts.assertions, this.rulesFor(endpoint));
    this.endpoints.get(endpoint).record(ob, cmp);
    const passed = this.total.record(ob, cmp);
    if (!passed && exp && cmp && this.failures.length < this.opts.limits.maxDetailedFailures) {
      this.failures.push(this.detail(ob, exp, cmp));
    }
  }

  /** Failing requests counted but not kept in detail (unknown pairs are never detailed). */
  get failuresOmitted(): number {
    return this.total.failed - this.unknown - this.failures.length;
  }

  perSecond() {
    return this.series?.rows() ?? [];
  }

  private rulesFor(endpoint: string): CompareRules {
    let rules = this.rules.get(endpoint);
    if (!rules) this.rules.set(endpoint, (rules = this.opts.rulesFor(endpoint)));
    return rules;
  }

  private detail(ob: ObservedExchange, exp: Expectation, cmp: Comparison): RequestResult {
    const max = this.opts.limits.maxDiffsPerRequest;
    const result: RequestResult = {
      pairId: ob.pairId,
      pass: ob.pass,
      method: ob.request.method,
      url: ob.request.url,
      endpoint: exp.endpoint,
      expectedStatus: exp.status,
      actualStatus: ob.response?.status ?? null,
      latencyMs: round2(ob.latencyMs),
      fieldsMatched: cmp.matched,
      fieldsCompared: cmp.compared,
      diffs: cmp.diffs.slice(0, max),
      diffsOmitted: Math.max(0, cmp.diffs.length - max),
    };
    if (ob.error) result.error = ob.error;
    return result;
  }
}
