import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decideVerdict, effectiveGoals, evaluateGoals, type GoalActuals } from '../../src/analyzer/goals.js';

const actuals: GoalActuals = {
  successRate: 99.5,
  assertionPassRate: 100,
  p50Ms: 12,
  p95Ms: 80,
  p99Ms: 250,
  rps: 40,
};

describe('goals', () => {
  test('each goal is expected vs actual, in a fixed order, with its direction', () => {
    const results = evaluateGoals({ p99Ms: 200, successRate: 99, minRps: 50, p95Ms: 80 }, actuals);
    assert.deepEqual(
      results.map((g) => [g.name, g.expected, g.actual, g.comparator, g.passed]),
      [
        ['successRate', 99, 99.5, '>=', true],
        ['p95Ms', 80, 80, '<=', true],
        ['p99Ms', 200, 250, '<=', false],
        ['minRps', 50, 40, '>=', false],
      ],
    );
  });

  test('a goal with nothing measured is missed', () => {
    const [g] = evaluateGoals({ p50Ms: 100 }, { ...actuals, p50Ms: null });
    assert.equal(g.passed, false);
    assert.equal(g.actual, null);
  });

  test('with no goal set, defaults apply: all assertions pass and success no worse than recorded', () => {
    const { goals, source } = effectiveGoals({}, 97.5);
    assert.deepEqual(goals, { assertionPassRate: 100, successRate: 97.5 });
    assert.equal(source, 'default');
    const results = evaluateGoals(goals, actuals, source);
    assert.ok(results.every((g) => g.source === 'default'));
    assert.deepEqual(effectiveGoals({ p99Ms: 10 }, 100), { goals: { p99Ms: 10 }, source: 'user' });
  });
});

describe('verdict', () => {
  const goals = evaluateGoals({ successRate: 99, p99Ms: 200 }, actuals);

  test('Missed Goals names what was missed', () => {
    const v = decideVerdict({ goals, requests: 10, mode: 'full-replay' });
    assert.equal(v.verdict, 'Missed Goals');
    assert.equal(v.reason, 'Missed: p99Ms 250 ms (goal ≤ 200 ms).');
  });

  test('Passed when every goal is met', () => {
    const v = decideVerdict({ goals: goals.filter((g) => g.passed), requests: 10, mode: 'full-replay' });
    assert.deepEqual(v, { verdict: 'Passed', reason: 'All 1 goal met.' });
  });

  test('Error when the replay could not run or sent nothing; Canceled when canceled', () => {
    assert.deepEqual(
      decideVerdict({ goals: [], requests: 0, mode: 'full-replay', error: 'app did not start' }),
      {
        verdict: 'Error',
        reason: 'app did not start',
      },
    );
    assert.equal(decideVerdict({ goals: [], requests: 0, mode: 'full-replay' }).verdict, 'Error');
    assert.equal(decideVerdict({ goals: [], requests: 0, mode: 'responder-only' }).verdict, 'Passed');
    assert.equal(
      decideVerdict({ goals, requests: 5, mode: 'full-replay', canceled: true }).verdict,
      'Canceled',
    );
  });
});
