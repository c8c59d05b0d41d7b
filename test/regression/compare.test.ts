import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareWithBaseline } from '../../src/regression/compare.js';
import type { Report } from '../../src/report/schema.js';

/** Only the fields the comparison reads; the rest of a report does not matter here. */
function report(
  p95: number,
  p99: number,
  requests: number,
  errors: number,
  assertionPassRate: number,
): Report {
  return {
    latency: { p50: 1, p75: 1, p90: 1, p95, p99, mean: 1, max: p99 },
    summary: { requests, errors, assertionPassRate },
  } as unknown as Report;
}

const thresholds = { latencyIncreasePct: 25, errorRateIncrease: 1, accuracyDecrease: 0 };

test('a replay within the thresholds passes every check', () => {
  const checks = compareWithBaseline(report(12, 24, 100, 1, 100), report(10, 20, 100, 0, 100), thresholds);
  assert.deepEqual(
    checks.map((c) => [c.name, c.passed]),
    [
      ['p95', true],
      ['p99', true],
      ['errorRate', true],
      ['accuracy', true],
    ],
  );
  assert.equal(checks.find((c) => c.name === 'p99')?.limit, 25);
});

test('slower p99, more errors and lower accuracy each fail their own check', () => {
  const checks = compareWithBaseline(report(10, 30, 100, 5, 97), report(10, 20, 100, 0, 100), thresholds);
  const failed = checks.filter((c) => !c.passed).map((c) => c.name);
  assert.deepEqual(failed, ['p99', 'errorRate', 'accuracy']);
  const err = checks.find((c) => c.name === 'errorRate')!;
  assert.equal(err.actual, 5);
  assert.equal(err.limit, 1);
});
