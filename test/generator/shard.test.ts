/**
 * A split load's replicas (load.replicas): three generators over one recording against a real
 * target on loopback, each with `shard` and the load replicaLoad gives it. Together they send
 * every replayed request exactly once per pass, none of the outbound or filtered-out pairs, and
 * their encoded histograms merge to the whole run's count.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LoadConfig } from '../../src/config/replay.js';
import { replicaLoad } from '../../src/config/replicas.js';
import { runGenerator } from '../../src/generator/index.js';
import { LatencyHistogram } from '../../src/base/latency-histogram.js';
import { counts, pair, startTarget, tempDir, type Target } from './helpers.js';

describe('generator: shards of a split load', () => {
  let target: Target;
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  before(async () => {
    tmp = await tempDir();
    target = await startTarget();
  });
  after(async () => {
    await target.close();
    await tmp.remove();
  });

  it('three replicas send each included inbound request exactly once per pass between them', async () => {
    // 100 pairs: every 5th outbound, /health ones left out by include.
    const recording = Array.from({ length: 100 }, (_, i) =>
      i % 5 === 0
        ? pair(i, { direction: 'outbound' })
        : pair(i, { request: { path: i % 7 === 0 ? `/health/${i}` : `/items/${i}` } }),
    );
    const replayed = recording.filter(
      (p) => p.direction === 'inbound' && p.request.path.startsWith('/items/'),
    );
    const load = LoadConfig.parse({ connections: 5, passes: 2, replicas: 3, include: ['/items/*'] });
    const summaries = await Promise.all(
      [0, 1, 2].map((index) =>
        runGenerator({
          pairs: recording,
          target: target.url,
          load: replicaLoad(load, { index, count: 3 }),
          shard: { index, count: 3 },
          observedPath: path.join(tmp.dir, `shard-${index}.ndjson.gz`),
        }),
      ),
    );
    const seen = counts(target.arrivals.map((a) => a.url));
    assert.equal(seen.size, replayed.length);
    for (const p of replayed) assert.equal(seen.get(p.request.path), 2, `${p.request.path} twice (2 passes)`);
    // Shares differ by at most one request per pass.
    const sent = summaries.map((s) => s.requests);
    assert.ok(Math.max(...sent) - Math.min(...sent) <= 2, `uneven shares: ${sent.join(', ')}`);
    assert.deepEqual(
      summaries.map((s) => s.replica),
      ['1/3', '2/3', '3/3'],
    );
    const merged = new LatencyHistogram();
    for (const s of summaries) merged.addEncoded(s.latencyHistogram!);
    assert.equal(merged.count, replayed.length * 2);
  });
});
