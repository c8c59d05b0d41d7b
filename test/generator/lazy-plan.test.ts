import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Cursor } from '../../src/generator/cursor.js';
import { runGenerator } from '../../src/generator/index.js';
import { LazyPlan } from '../../src/generator/lazy-plan.js';
import {
  buildPlan,
  requestPlanner,
  scanRecording,
  type PlannedRequest,
  type RecordedRequest,
} from '../../src/generator/request-plan.js';
import type { Transform } from '../../src/config/replay.js';
import { counts, observed, pair, pairs, startTarget, tempDir } from './helpers.js';

const target = new URL('http://127.0.0.1:8080/base/');
/** One static and one send-time transform, so both kinds of planned request are compared. */
const transforms: Transform[] = [
  { type: 'header', name: 'x-run', value: 'lazy' },
  { type: 'date-shift', in: ['query'] },
];
/** Stored by completion (neighbours swapped), with a timestamp the shift transform rewrites. */
const recording = () =>
  pairs(30)
    .map((p) => ({ ...p, request: { ...p.request, query: [['at', p.startedAt]] as [string, string][] } }))
    .map((p, i, all) => (i % 2 ? all[i - 1] : (all[i + 1] ?? p)));

const sameRequest = (a: PlannedRequest, b: PlannedRequest) => {
  assert.equal(a.observedHead, b.observedHead);
  assert.equal(a.offsetMs, b.offsetMs);
  assert.deepEqual(a.bytes, b.bytes);
  assert.equal(a.render === undefined, b.render === undefined);
  if (a.render && b.render) assert.deepEqual(a.render({ nowMs: 1e12 }), b.render({ nowMs: 1e12 }));
};

describe('lazy plan: a held pass planned as it is sent', () => {
  it('plans each request once, only when first asked, the same as planning the whole pass up front', async () => {
    const list = recording();
    const scan = await scanRecording(() => list, { heldBytes: Infinity });
    const plan = requestPlanner(scan, { target, transforms });
    const asked: string[] = [];
    const lazy = new LazyPlan(scan.held!, (r: RecordedRequest) => {
      asked.push(r.id);
      return plan(r);
    });
    assert.deepEqual(asked, [], 'nothing is planned before it is asked for');
    const eager = await buildPlan(list, { target, transforms });
    assert.equal(lazy.length, eager.requests.length);
    for (let i = 0; i < lazy.length; i++) sameRequest(lazy.at(i)!, eager.requests[i]);
    for (let i = 0; i < lazy.length; i++) assert.equal(lazy.at(i), lazy.at(i), 'kept for the next pass');
    assert.deepEqual(
      asked,
      pairs(30).map((p) => p.id),
      'planned once each, in recorded time order',
    );
    assert.equal(lazy.at(30), undefined);
  });

  it('stops the run with the error when planning a held request fails', () => {
    const planned = pairs(3).map((p, i) => ({ pairId: p.id, offsetMs: i }) as unknown as PlannedRequest);
    const held = {
      at: (i: number) => {
        if (i === 2) throw new Error('cannot plan pair-2');
        return planned[i];
      },
    };
    const cursor = new Cursor(3, 2, held);
    const sent: string[] = [];
    for (let next = cursor.peek(); next; next = cursor.peek()) {
      sent.push(next.request.pairId);
      cursor.take();
    }
    assert.deepEqual(sent, ['pair-0', 'pair-1']);
    assert.equal(cursor.exhausted, true);
    assert.match(cursor.error?.message ?? '', /cannot plan pair-2/);
  });
});

describe('lazy plan: a generator run', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  before(async () => {
    tmp = await tempDir();
  });
  after(async () => {
    await tmp.remove();
  });

  it('sends every held request exactly once per pass in recorded order, with its transforms', async () => {
    const app = await startTarget();
    try {
      const file = path.join(tmp.dir, 'lazy.ndjson.gz');
      const summary = await runGenerator({
        pairs: [...recording(), { ...pair(99), direction: 'outbound' as const }],
        target: app.url,
        load: { connections: 1, passes: 3 },
        transforms,
        observedPath: file,
      });
      const order = pairs(30).map((p) => p.request.path);
      assert.deepEqual(
        app.arrivals.map((a) => a.url.split('?')[0]),
        [...order, ...order, ...order],
      );
      assert.ok(app.arrivals.every((a) => a.headers['x-run'] === 'lazy'));
      assert.deepEqual([summary.requests, summary.recorded, summary.passes], [90, 30, 3]);
      const byPass = counts((await observed(file)).map((l) => `${l.pairId}#${l.pass}`));
      assert.equal(byPass.size, 90, 'one observed line per pair and pass');
    } finally {
      await app.close();
    }
  });
});
