import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Goals } from '../../src/config/replay.js';
import { analyzeReplay, type AnalyzeInput } from '../../src/analyzer/index.js';
import { Report } from '../../src/report/schema.js';
import { defaultAssertions, meta, noGoals, observed, pair, stream, T0 } from './fixtures.js';

function input(over: Partial<AnalyzeInput> & Pick<AnalyzeInput, 'recorded' | 'observed'>): AnalyzeInput {
  return { assertions: defaultAssertions(), goals: noGoals, meta: meta(), now: new Date(T0), ...over };
}

describe('analyzeReplay', () => {
  test('counts requests, responses, errors, success and assertion rates', async () => {
    const report = await analyzeReplay(
      input({
        recorded: stream([
          pair({ id: 'a', path: '/a', body: { v: 1 } }),
          pair({ id: 'b', path: '/b', body: { v: 1 } }),
          pair({ id: 'c', path: '/c', body: { v: 1 } }),
          pair({ id: 'd', path: '/d', body: { v: 1 } }),
        ]),
        observed: stream([
          observed({ pairId: 'a', body: { v: 1 } }),
          observed({ pairId: 'b', body: { v: 2 } }),
          observed({ pairId: 'c', status: 503, body: { v: 1 } }),
          observed({ pairId: 'd', error: 'ECONNREFUSED' }),
          observed({ pairId: 'nope', body: { v: 1 } }),
        ]),
      }),
    );
    assert.deepEqual(
      {
        requests: report.summary.requests,
        responses: report.summary.responses,
        errors: report.summary.errors,
        successRate: report.summary.successRate,
        assertionsPassed: report.summary.assertionsPassed,
        assertionsFailed: report.summary.assertionsFailed,
        assertionPassRate: report.summary.assertionPassRate,
        unknownPairs: report.summary.unknownPairs,
      },
      {
        requests: 5,
        responses: 4,
        errors: 1,
        successRate: 60,
        assertionsPassed: 1,
        assertionsFailed: 4,
        assertionPassRate: 20,
        unknownPairs: 1,
      },
    );
    assert.deepEqual(report.errorsByKind, { ECONNREFUSED: 1 });
    assert.equal(report.diffs.length, 3, 'unknown pairs are counted, not detailed');
    assert.equal(report.diffs.find((d) => d.pairId === 'd')?.error, 'ECONNREFUSED');
    assert.match(report.notes.join('\n'), /1 replayed requests named no recorded inbound pair/);
    assert.doesNotThrow(() => Report.parse(report));
  });

  test('groups endpoints with ids as {id} and reports N/M fields and accuracy', async () => {
    const report = await analyzeReplay(
      input({
        recorded: stream([
          pair({ id: '1', path: '/users/17', body: { name: 'a', age: 3 } }),
          pair({ id: '2', path: '/users/3f2b8c1e-9d4a-4e6f-8a7b-1c2d3e4f5a6b', body: { name: 'b', age: 4 } }),
          pair({ id: '3', method: 'POST', path: '/users', status: 201, body: { ok: true } }),
        ]),
        observed: stream([
          observed({ pairId: '1', body: { name: 'a', age: 3 } }),
          observed({ pairId: '2', body: { name: 'b', age: 5 } }),
          observed({ pairId: '3', method: 'POST', status: 201, body: { ok: true } }),
        ]),
      }),
    );
    const users = report.endpoints.find((e) => e.endpoint === 'GET /users/{id}');
    assert.ok(users, JSON.stringify(report.endpoints));
    // status + content-type + 2 body fields, twice; one age differs.
    assert.deepEqual(
      [users.requests, users.passed, users.failed, users.fieldsMatched, users.fieldsCompared],
      [2, 1, 1, 7, 8],
    );
    assert.equal(users.accuracy, 87.5);
    assert.equal(report.endpoints[0].endpoint, 'GET /users/{id}', 'most requests first');
    assert.deepEqual([report.diffs[0].fieldsMatched, report.diffs[0].fieldsCompared], [3, 4]);
  });

  test('keeps the first failing requests in detail and counts the rest', async () => {
    const pairs = Array.from({ length: 7 }, (_, i) =>
      pair({ id: `p${i}`, path: `/x/${i}`, body: { a: 1, b: 2, c: 3 } }),
    );
    const report = await analyzeReplay(
      input({
        recorded: stream(pairs),
        observed: stream(pairs.map((p) => observed({ pairId: p.id, body: { a: 9, b: 9, c: 9 } }))),
        limits: { maxDetailedFailures: 2, maxDiffsPerRequest: 1 },
      }),
    );
    assert.equal(report.summary.assertionsFailed, 7);
    assert.equal(report.diffs.length, 2);
    assert.equal(report.diffsOmitted, 5);
    assert.equal(report.diffs[0].diffs.length, 1);
    assert.equal(report.diffs[0].diffsOmitted, 2);
  });

  test('timing from the generator when given, else measured from the observed stream', async () => {
    const recorded = [pair({ id: 'a', path: '/a', body: { v: 1 } })];
    const seen = [
      observed({ pairId: 'a', body: { v: 1 }, latencyMs: 10, at: 100 }),
      observed({ pairId: 'a', body: { v: 1 }, latencyMs: 30, at: 1200, pass: 1 }),
      observed({ pairId: 'a', error: 'timeout', latencyMs: 5000, at: 1300, pass: 2 }),
    ];
    const measured = await analyzeReplay(input({ recorded: stream(recorded), observed: stream(seen) }));
    assert.equal(measured.latency.p50, 10);
    assert.equal(measured.latency.max, 30, 'requests without a response have no latency');
    assert.equal(measured.summary.durationMs, 5000, 'from meta start/end');
    assert.equal(measured.summary.rps, 0.6);
    assert.deepEqual(measured.perSecond, [
      { t: 0, requests: 1, errors: 0, p50: 10, p99: 10 },
      { t: 1, requests: 2, errors: 1, p50: 30, p99: 30 },
    ]);

    const latency = { p50: 1, p75: 2, p90: 3, p95: 4, p99: 5, mean: 2, max: 9 };
    const fromGenerator = await analyzeReplay(
      input({
        recorded: stream(recorded),
        observed: stream(seen),
        generator: { requests: 4, durationMs: 2000, rps: 2, latency, perSecond: [] },
      }),
    );
    assert.deepEqual(fromGenerator.latency, latency);
    assert.equal(fromGenerator.summary.rps, 2);
    assert.equal(fromGenerator.summary.durationMs, 2000);
    assert.match(fromGenerator.notes.join('\n'), /generator reports 4 requests sent; 3 were observed/);
  });

  test('skips outbound pairs; compares every pass against the same recording', async () => {
    const out = { ...pair({ id: 'o', path: '/dep', body: { x: 1 } }), direction: 'outbound' as const };
    const report = await analyzeReplay(
      input({
        recorded: stream([out, pair({ id: 'a', path: '/a', body: { v: 1 } })]),
        observed: stream([
          observed({ pairId: 'a', body: { v: 1 } }),
          observed({ pairId: 'a', pass: 1, body: { v: 2 } }),
        ]),
      }),
    );
    assert.equal(report.summary.recordedPairs, 1);
    assert.equal(report.summary.assertionsFailed, 1);
    assert.equal(report.diffs[0].pass, 1);
  });

  test('with body assertions off, only status and headers count', async () => {
    const report = await analyzeReplay(
      input({
        recorded: stream([pair({ id: 'a', path: '/a', body: { v: 1 } })]),
        observed: stream([observed({ pairId: 'a', body: { v: 2 } })]),
        assertions: defaultAssertions({ enabled: false }),
      }),
    );
    assert.equal(report.summary.assertionsFailed, 0);
    assert.equal(report.summary.fieldsCompared, 2);
  });

  test('user ignore paths are honoured', async () => {
    const report = await analyzeReplay(
      input({
        recorded: stream([pair({ id: 'a', path: '/a', body: { v: 1, items: [{ id: 1, n: 'x' }] } })]),
        observed: stream([observed({ pairId: 'a', body: { v: 1, items: [{ id: 2, n: 'x' }] } })]),
        assertions: defaultAssertions({ ignore: ['$.items[*].id'], autoNoise: false }),
      }),
    );
    assert.equal(report.summary.assertionsFailed, 0);
  });

  test('a recorded 5xx that the replay reproduces passes the default goals', async () => {
    const report = await analyzeReplay(
      input({
        recorded: stream([
          pair({ id: 'a', path: '/a', body: { ok: 1 } }),
          pair({ id: 'b', path: '/b', status: 500, body: { err: 1 } }),
        ]),
        observed: stream([
          observed({ pairId: 'a', body: { ok: 1 } }),
          observed({ pairId: 'b', status: 500, body: { err: 1 } }),
        ]),
      }),
    );
    assert.equal(report.summary.successRate, 50);
    assert.deepEqual(
      report.goals.map((g) => [g.name, g.expected, g.actual, g.passed, g.source]),
      [
        ['successRate', 50, 50, true, 'default'],
        ['assertionPassRate', 100, 100, true, 'default'],
      ],
    );
    assert.equal(report.verdict, 'Passed');
  });

  test('user goals replace the defaults and drive the verdict', async () => {
    const report = await analyzeReplay(
      input({
        recorded: stream([pair({ id: 'a', path: '/a', body: { ok: 1 } })]),
        observed: stream([observed({ pairId: 'a', body: { ok: 2 }, latencyMs: 50 })]),
        goals: Goals.parse({ p99Ms: 100 }),
      }),
    );
    assert.deepEqual(
      report.goals.map((g) => g.name),
      ['p99Ms'],
    );
    assert.equal(report.verdict, 'Passed', 'the failed assertion is reported but no goal covers it');
    assert.equal(report.summary.assertionsFailed, 1);
  });

  test('responder stats become a match rate with the misses listed (bounded)', async () => {
    const miss = {
      status: 'NO_MATCH' as const,
      method: 'GET',
      url: 'http://dep/x',
      signature: 's',
      at: new Date(T0).toISOString(),
    };
    const report = await analyzeReplay(
      input({
        recorded: stream([]),
        observed: stream([]),
        meta: meta({ mode: 'responder-only' }),
        responder: { match: 7, noMatch: 2, passthrough: 1, misses: [miss, miss, miss], missesDropped: 4 },
        limits: { maxResponderMisses: 2 },
      }),
    );
    assert.deepEqual(
      { ...report.responder, misses: report.responder?.misses.length },
      { match: 7, noMatch: 2, passthrough: 1, total: 10, matchRate: 70, misses: 2, missesOmitted: 5 },
    );
    assert.equal(report.verdict, 'Passed', 'responder-only sends no request');
    const none = await analyzeReplay(
      input({ recorded: stream([]), observed: stream([]), error: 'target unreachable' }),
    );
    assert.equal(none.responder, null);
    assert.equal(none.verdict, 'Error');
    assert.equal(none.verdictReason, 'target unreachable');
    assert.doesNotThrow(() => Report.parse(none));
  });

  test('logs are kept bounded: the last lines, long lines cut', async () => {
    const lines = Array.from({ length: 10 }, (_, i) => `line ${i}`);
    lines.push('x'.repeat(50));
    const report = await analyzeReplay(
      input({
        recorded: stream([]),
        observed: stream([]),
        logs: [{ name: 'generator', lines }],
        limits: { maxLogLines: 3, maxLogLineChars: 10 },
      }),
    );
    assert.deepEqual(report.logs, [
      { name: 'generator', lines: ['line 8', 'line 9', `${'x'.repeat(10)}…`], omitted: 8 },
    ]);
  });

  test('past the memory budget JSON bodies are kept as hashes, and the report says so', async () => {
    const big = { items: Array.from({ length: 50 }, (_, i) => ({ i })) };
    const report = await analyzeReplay(
      input({
        recorded: stream([
          pair({ id: 'a', path: '/a', body: { small: 1 } }),
          pair({ id: 'b', path: '/b', body: big }),
        ]),
        observed: stream([
          observed({ pairId: 'a', body: { small: 1 } }),
          observed({ pairId: 'b', body: big }),
        ]),
        limits: { budgetChars: 100 },
      }),
    );
    assert.equal(report.summary.assertionsFailed, 0, 'identical bytes still match by hash');
    assert.match(report.notes.join('\n'), /1 recorded JSON bodies .* compared by sha256/);
  });
});
