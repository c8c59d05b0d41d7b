import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { analyzeReplay } from '../../src/analyzer/index.js';
import { volatileReason } from '../../src/analyzer/volatile.js';
import { defaultAssertions, meta, noGoals, observed, pair, stream, T0 } from './fixtures.js';

const around = [T0];

describe('volatile value heuristics', () => {
  test('timestamps: ISO-8601, RFC 1123, epoch seconds and millis near the capture', () => {
    assert.equal(volatileReason('2025-03-01T10:00:00Z', around), 'looks-like-timestamp');
    assert.equal(volatileReason('2025-03-01T10:00:00.123+02:00', around), 'looks-like-timestamp');
    assert.equal(volatileReason('2025-03-01 10:00', around), 'looks-like-timestamp');
    assert.equal(volatileReason('Sat, 01 Mar 2025 10:00:00 GMT', around), 'looks-like-timestamp');
    assert.equal(volatileReason(Math.floor(T0 / 1000) + 60, around), 'looks-like-timestamp');
    assert.equal(volatileReason(T0 - 86_400_000, around), 'looks-like-timestamp');
    assert.equal(volatileReason(String(Math.floor(T0 / 1000)), around), 'looks-like-timestamp');
  });

  test('ordinary numbers and dates are not timestamps', () => {
    assert.equal(volatileReason(42, around), undefined);
    assert.equal(volatileReason(1_234_567, around), undefined);
    assert.equal(volatileReason(Math.floor(T0 / 1000) - 400 * 86_400, around), undefined, 'a year off');
    assert.equal(volatileReason('1990-01-01', around), undefined, 'a date alone is data');
  });

  test('uuids, JWTs and random ids', () => {
    assert.equal(volatileReason('3f2b8c1e-9d4a-4e6f-8a7b-1c2d3e4f5a6b', around), 'looks-like-uuid');
    assert.equal(volatileReason('3F2B8C1E-9D4A-4E6F-8A7B-1C2D3E4F5A6B', around), 'looks-like-uuid');
    const jwt =
      'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U';
    assert.equal(volatileReason(jwt, around), 'looks-like-jwt');
    assert.equal(volatileReason(`Bearer ${jwt}`, around), 'looks-like-jwt');
    assert.equal(volatileReason('9f86d081884c7d659a2feaa0c55ad015', around), 'looks-like-random-id');
    assert.equal(volatileReason('01ARZ3NDEKTSV4RRFFQ69G5FAV', around), 'looks-like-random-id');
    assert.equal(volatileReason('aZ3kP9qLm2Xv7Rt5Wn8Yb4Hc', around), 'looks-like-random-id');
  });

  test('words, slugs and short codes are not random ids', () => {
    for (const v of [
      'delivered',
      'Ada Lovelace',
      'order-confirmation-email',
      'HelloWorldExample',
      'SKU-12',
      'abcdef12',
    ]) {
      assert.equal(volatileReason(v, around), undefined, v);
    }
  });
});

const order = (id: string, createdAt: string, total: number) => ({ id, createdAt, total, currency: 'EUR' });

async function replayOrders(replayed: ReturnType<typeof order>, assertions = defaultAssertions()) {
  return analyzeReplay({
    recorded: stream([
      pair({ id: 'r1', path: '/orders/1', body: order('a1', 'x1', 10), at: 0 }),
      pair({ id: 'r2', path: '/orders/1', body: order('b2', 'x2', 10), at: 1000 }),
    ]),
    observed: stream([observed({ pairId: 'r1', body: replayed })]),
    assertions,
    goals: noGoals,
    meta: meta(),
    now: new Date(T0),
  });
}

describe('noise detection from the recording', () => {
  test('fields that differ between two recordings of one request are noise', async () => {
    const report = await replayOrders(order('zz', 'x9', 10));
    assert.deepEqual(
      report.noise.map((n) => [n.endpoint, n.path, n.reason]),
      [
        ['GET /orders/{id}', '$.createdAt', 'differs-between-recordings'],
        ['GET /orders/{id}', '$.id', 'differs-between-recordings'],
      ],
    );
    assert.equal(report.summary.assertionPassRate, 100);
    assert.equal(report.verdict, 'Passed');
  });

  test('a real change (total 10 -> 12) is not noise and fails the assertion', async () => {
    const report = await replayOrders(order('zz', 'x9', 12));
    assert.equal(report.summary.assertionsFailed, 1);
    assert.equal(report.verdict, 'Missed Goals');
    const diffs = report.diffs[0].diffs;
    assert.deepEqual(
      diffs.filter((d) => !d.noise).map((d) => [d.path, d.expected, d.actual]),
      [['$.total', '10', '12']],
    );
    assert.deepEqual(
      diffs
        .filter((d) => d.noise)
        .map((d) => d.path)
        .sort(),
      ['$.createdAt', '$.id'],
    );
  });

  test('forceCompare makes a noise field count again', async () => {
    const report = await replayOrders(order('zz', 'x9', 10), defaultAssertions({ forceCompare: ['$.id'] }));
    assert.equal(report.summary.assertionsFailed, 1);
    assert.deepEqual(
      report.diffs[0].diffs.filter((d) => !d.noise).map((d) => d.path),
      ['$.id'],
    );
    assert.equal(report.noise.find((n) => n.path === '$.id')?.forced, true);
  });

  test('autoNoise off compares everything', async () => {
    const report = await replayOrders(order('zz', 'x9', 10), defaultAssertions({ autoNoise: false }));
    assert.deepEqual(report.noise, []);
    assert.equal(report.diffs[0].diffs.filter((d) => !d.noise).length, 2);
  });

  test('values that look volatile are noise from a single recording, with the reason', async () => {
    const rec = {
      id: '3f2b8c1e-9d4a-4e6f-8a7b-1c2d3e4f5a6b',
      at: '2025-03-01T10:00:00Z',
      epoch: Math.floor(T0 / 1000),
      items: [{ ref: '9f86d081884c7d659a2feaa0c55ad015', qty: 1 }],
      name: 'widget',
    };
    const report = await analyzeReplay({
      recorded: stream([pair({ id: 'r1', path: '/things', body: rec })]),
      observed: stream([
        observed({
          pairId: 'r1',
          body: {
            ...rec,
            id: crypto.randomUUID(),
            at: new Date().toISOString(),
            epoch: 1,
            items: [{ ref: 'ffff0000ffff0000aa', qty: 1 }],
          },
        }),
      ]),
      assertions: defaultAssertions(),
      goals: noGoals,
      meta: meta(),
      now: new Date(T0),
    });
    assert.deepEqual(
      report.noise.map((n) => [n.path, n.reason]),
      [
        ['$.at', 'looks-like-timestamp'],
        ['$.epoch', 'looks-like-timestamp'],
        ['$.id', 'looks-like-uuid'],
        ['$.items[*].ref', 'looks-like-random-id'],
      ],
    );
    assert.equal(report.verdict, 'Passed');
  });

  test('a volatile-looking field that disappears is still a real difference', async () => {
    const report = await analyzeReplay({
      recorded: stream([
        pair({ id: 'r1', path: '/t', body: { id: '3f2b8c1e-9d4a-4e6f-8a7b-1c2d3e4f5a6b' } }),
      ]),
      observed: stream([observed({ pairId: 'r1', body: {} })]),
      assertions: defaultAssertions(),
      goals: noGoals,
      meta: meta(),
    });
    assert.deepEqual(
      report.diffs[0].diffs.map((d) => [d.kind, d.noise]),
      [['missing', false]],
    );
  });

  test('volatile headers and headers that differ between recordings are noise when asserted', async () => {
    const h = (date: string, v: string): [string, string][] => [
      ['content-type', 'application/json'],
      ['date', date],
      ['x-build', v],
      ['x-stable', 's'],
    ];
    const report = await analyzeReplay({
      recorded: stream([
        pair({ id: 'r1', path: '/h', body: { a: 1 }, headers: h('Sat, 01 Mar 2025 10:00:00 GMT', 'b1') }),
        pair({ id: 'r2', path: '/h', body: { a: 1 }, headers: h('Sat, 01 Mar 2025 10:00:05 GMT', 'b2') }),
      ]),
      observed: stream([
        observed({ pairId: 'r1', body: { a: 1 }, headers: h('Mon, 01 Jun 2026 00:00:00 GMT', 'b3') }),
      ]),
      assertions: defaultAssertions({}, ['content-type', 'date', 'x-build', 'x-stable']),
      goals: noGoals,
      meta: meta(),
    });
    assert.equal(report.summary.assertionsFailed, 0);
    assert.deepEqual(
      report.noise.map((n) => [n.endpoint, n.location, n.path, n.reason]),
      [
        ['*', 'header', 'date', 'volatile-header'],
        ['GET /h', 'header', 'x-build', 'differs-between-recordings'],
      ],
    );
  });

  test('a non-JSON body that differs between recordings is noise as a whole', async () => {
    const report = await analyzeReplay({
      recorded: stream([
        pair({ id: 'r1', path: '/page', body: '<p>csrf=111</p>' }),
        pair({ id: 'r2', path: '/page', body: '<p>csrf=222</p>' }),
      ]),
      observed: stream([observed({ pairId: 'r1', body: '<p>csrf=333</p>' })]),
      assertions: defaultAssertions(),
      goals: noGoals,
      meta: meta(),
    });
    assert.deepEqual(
      report.noise.map((n) => [n.path, n.reason]),
      [['$', 'differs-between-recordings']],
    );
    assert.equal(report.summary.assertionsFailed, 0);
  });

  test('requests with different bodies are different requests: their answers may differ', async () => {
    const report = await analyzeReplay({
      recorded: stream([
        pair({ id: 'r1', method: 'POST', path: '/sum', requestBody: { a: 1 }, body: { total: 1 } }),
        pair({ id: 'r2', method: 'POST', path: '/sum', requestBody: { a: 2 }, body: { total: 2 } }),
      ]),
      observed: stream([observed({ pairId: 'r1', method: 'POST', body: { total: 5 } })]),
      assertions: defaultAssertions(),
      goals: noGoals,
      meta: meta(),
    });
    assert.deepEqual(report.noise, []);
    assert.equal(report.summary.assertionsFailed, 1);
  });
});
