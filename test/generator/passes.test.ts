import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runGenerator } from '../../src/generator/index.js';
import type { RRPair } from '../../src/model/traffic.js';
import { FsSnapshotStore } from '../../src/store/fs-store.js';
import { counts, observed, pairs, startTarget, tempDir, type Target } from './helpers.js';

describe('generator: one shared cursor over the recording', () => {
  let target: Target;
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  before(async () => {
    tmp = await tempDir();
  });
  after(async () => {
    await tmp.remove();
  });

  it('sends each of 1,000 recorded requests exactly once with 20 connections, and observes each with its pair id', async () => {
    target = await startTarget();
    try {
      const file = path.join(tmp.dir, 'one-pass.ndjson.gz');
      const summary = await runGenerator({
        pairs: pairs(1000),
        target: target.url,
        load: { connections: 20 },
        observedPath: file,
      });
      const seen = counts(target.arrivals.map((a) => a.url));
      assert.equal(seen.size, 1000, 'every recorded request arrived');
      for (let i = 0; i < 1000; i++) assert.equal(seen.get(`/items/${i}`), 1, `/items/${i} arrived once`);
      assert.equal(summary.requests, 1000);
      assert.equal(summary.responses, 1000);
      assert.equal(summary.errors, 0);
      assert.equal(summary.passes, 1);
      assert.equal(summary.canceled, false);

      const lines = await observed(file);
      assert.equal(lines.length, 1000);
      for (const ob of lines) {
        const echoed = JSON.parse(ob.response?.body?.data ?? '{}') as { url: string };
        assert.equal(echoed.url, `/items/${ob.pairId.slice('pair-'.length)}`, `response of ${ob.pairId}`);
        assert.equal(ob.pass, 0);
        assert.equal(ob.request.url, `${target.url}/items/${ob.pairId.slice('pair-'.length)}`);
      }
      assert.equal(new Set(lines.map((l) => l.pairId)).size, 1000);
    } finally {
      await target.close();
    }
  });

  it('sends each recorded request exactly three times with passes=3, each pass numbered', async () => {
    target = await startTarget();
    try {
      const file = path.join(tmp.dir, 'three-passes.ndjson.gz');
      const summary = await runGenerator({
        pairs: pairs(300),
        target: target.url,
        load: { connections: 20, passes: 3 },
        observedPath: file,
      });
      const seen = counts(target.arrivals.map((a) => a.url));
      assert.equal(seen.size, 300);
      for (const [url, n] of seen) assert.equal(n, 3, `${url} arrived ${n} times`);
      assert.equal(summary.requests, 900);
      assert.equal(summary.passes, 3);
      const byPass = counts((await observed(file)).map((l) => `${l.pairId}#${l.pass}`));
      assert.equal(byPass.size, 900, 'one observed line per pair and pass');
    } finally {
      await target.close();
    }
  });

  it('finishes at once with nothing to send when the recording has no inbound request', async () => {
    const summary = await runGenerator({
      pairs: pairs(3).map((p) => ({ ...p, direction: 'outbound' as const })),
      target: 'http://127.0.0.1:9',
      observedPath: path.join(tmp.dir, 'empty.ndjson.gz'),
    });
    assert.deepEqual([summary.requests, summary.recorded, summary.passes, summary.perSecond], [0, 0, 0, []]);
    assert.deepEqual(await observed(path.join(tmp.dir, 'empty.ndjson.gz')), []);
  });

  it('replays only inbound requests matching include, in recorded order', async () => {
    target = await startTarget();
    try {
      const recorded = pairs(20).map((p, i) => ({
        ...p,
        // Stored out of order: the generator sorts by startedAt.
        startedAt: new Date(Date.parse(p.startedAt) + (i % 2 ? 0 : 100)).toISOString(),
        direction: i === 3 ? ('outbound' as const) : ('inbound' as const),
        request: { ...p.request, path: i % 2 ? `/odd/${i}` : `/even/${i}` },
      }));
      const summary = await runGenerator({
        pairs: recorded,
        target: target.url,
        load: { connections: 1, include: ['/odd/**', '/even/1*'] },
        observedPath: path.join(tmp.dir, 'include.ndjson.gz'),
      });
      assert.deepEqual(
        target.arrivals.map((a) => a.url),
        [
          '/odd/1',
          '/odd/5',
          '/odd/7',
          '/odd/9',
          '/odd/11',
          '/odd/13',
          '/odd/15',
          '/odd/17',
          '/odd/19',
          '/even/10',
          '/even/12',
          '/even/14',
          '/even/16',
          '/even/18',
        ],
      );
      assert.equal(summary.recorded, 14);
    } finally {
      await target.close();
    }
  });
});

describe('generator: a recording too big to hold is streamed from the snapshot', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let store: FsSnapshotStore;
  before(async () => {
    tmp = await tempDir();
    store = new FsSnapshotStore(path.join(tmp.dir, 'home'));
  });
  after(async () => {
    await tmp.remove();
  });

  async function snapshot(recorded: RRPair[]): Promise<string> {
    const writer = await store.createWriter({ service: 'orders', source: 'capture' });
    for (const p of recorded) await writer.append(p);
    await writer.seal();
    return writer.id;
  }

  /** Stored as a capture writes them, by completion: neighbours swapped, so not in time order. */
  const completionOrder = (n: number) =>
    pairs(n).map((p, i, all) => (i % 2 ? all[i - 1] : (all[i + 1] ?? p)));

  it('sends each request exactly once per pass with 20 connections, read again for every pass', async () => {
    const target = await startTarget();
    try {
      const file = path.join(tmp.dir, 'streamed.ndjson.gz');
      const summary = await runGenerator({
        store,
        snapshotId: await snapshot(completionOrder(500)),
        target: target.url,
        load: { connections: 20, passes: 3 },
        observedPath: file,
        heldPlanBytes: 0,
      });
      const seen = counts(target.arrivals.map((a) => a.url));
      assert.equal(seen.size, 500);
      for (const [url, n] of seen) assert.equal(n, 3, `${url} arrived ${n} times`);
      assert.deepEqual([summary.requests, summary.recorded, summary.passes], [1500, 500, 3]);
      const byPass = counts((await observed(file)).map((l) => `${l.pairId}#${l.pass}`));
      assert.equal(byPass.size, 1500, 'one observed line per pair and pass');
    } finally {
      await target.close();
    }
  });

  it('sends a stream stored out of time order in recorded order', async () => {
    const target = await startTarget();
    try {
      await runGenerator({
        store,
        snapshotId: await snapshot(completionOrder(40)),
        target: target.url,
        load: { connections: 1 },
        observedPath: path.join(tmp.dir, 'ordered.ndjson.gz'),
        heldPlanBytes: 0,
      });
      assert.deepEqual(
        target.arrivals.map((a) => a.url),
        pairs(40).map((p) => p.request.path),
      );
    } finally {
      await target.close();
    }
  });

  it('keeps starting passes until the duration is up', async () => {
    const target = await startTarget();
    try {
      const summary = await runGenerator({
        store,
        snapshotId: await snapshot(pairs(5)),
        target: target.url,
        load: { connections: 4, duration: '1s' },
        observedPath: path.join(tmp.dir, 'duration.ndjson.gz'),
        heldPlanBytes: 0,
      });
      assert.ok(summary.passes >= 2, `passes: ${summary.passes}`);
      const seen = [...counts(target.arrivals.map((a) => a.url)).values()];
      assert.ok(Math.max(...seen) - Math.min(...seen) <= 1, 'every request once per pass');
    } finally {
      await target.close();
    }
  });
});
