/**
 * Compares a replay's report with its baseline's: latency (p95, p99), error rate and
 * accuracy (assertion pass rate), each against a threshold. Pure: no I/O.
 */
import type { RegressionCheck, RegressionInput } from '../config/replay.js';
import type { Report } from '../report/schema.js';
import { round2 } from '../base/round.js';

const errorRate = (r: Report) => (r.summary.requests ? (100 * r.summary.errors) / r.summary.requests : 0);

export function compareWithBaseline(
  current: Report,
  baseline: Report,
  thresholds: RegressionInput['thresholds'],
): RegressionCheck[] {
  const latency = (name: 'p95' | 'p99'): RegressionCheck => {
    const limit = round2(baseline.latency[name] * (1 + thresholds.latencyIncreasePct / 100));
    return {
      name,
      baseline: baseline.latency[name],
      actual: current.latency[name],
      limit,
      passed: current.latency[name] <= limit,
    };
  };
  const errLimit = round2(errorRate(baseline) + thresholds.errorRateIncrease);
  const accLimit = round2(baseline.summary.assertionPassRate - thresholds.accuracyDecrease);
  return [
    latency('p95'),
    latency('p99'),
    {
      name: 'errorRate',
      baseline: round2(errorRate(baseline)),
      actual: round2(errorRate(current)),
      limit: errLimit,
      passed: errorRate(current) <= errLimit,
    },
    {
      name: 'accuracy',
      baseline: baseline.summary.assertionPassRate,
      actual: current.summary.assertionPassRate,
      limit: accLimit,
      passed: current.summary.assertionPassRate >= accLimit,
    },
  ];
}
