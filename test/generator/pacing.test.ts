import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runGenerator } from '../../src/generator/index.js';
import { CAPTURE_START, pair, pairs, startTarget, tempDir } from './helpers.js';

describe('generator: pacing', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  before(async () => {
    tmp = await tempDir();
  });
  after(async () => {
    await tmp.remove();
  });

  it('holds a fixed rate: 200 req/s for 3 s sends about 600, spread over the run', async () => {
    const target = await startTarget();
    try {
      const summary = await runGenerator({
        pairs: pairs(50),
        target: target.url,
        load: { rate: 200, duration: '3s', connections: 10 },
        observedPath: path.join(tmp.dir, 'rate.ndjson.gz'),
      });
      // The k-th send is due at k/200 s: 600 fall inside 3 s when the target keeps up.
      assert.ok(Math.abs(summary.requests - 600) <= 60, `${summary.requests} requests`);
      assert.equal(target.arrivals.length, summary.requests);
      assert.ok(summary.passes >= 12, `${summary.passes} passes of 50`);
      // Paced per request, not a burst per second: the first half of the run has about half.
      const t0 = target.arrivals[0].at;
      const firstHalf = target.arrivals.filter((a) => a.at - t0 < 1500).length;
      assert.ok(
        firstHalf > 0.35 * summary.requests && firstHalf < 0.65 * summary.requests,
        `${firstHalf} in 1.5 s`,
      );
    } finally {
      await target.close();
    }
  });

  it('replays recorded timing at 2x: recorded order, about half the recorded span', async () => {
    const target = await startTarget();
    try {
      // 20 requests recorded 50 ms apart (950 ms), stored shuffled.
      const recorded = Array.from({ length: 20 }, (_, i) =>
        pair(i, { startedAt: new Date(CAPTURE_START + i * 50).toISOString() }),
      ).sort(() => Math.random() - 0.5);
      const summary = await runGenerator({
        pairs: recorded,
        target: target.url,
        load: { speed: '2x', connections: 4 },
        observedPath: path.join(tmp.dir, 'speed.ndjson.gz'),
      });
      assert.equal(summary.requests, 20);
      assert.deepEqual(
        target.arrivals.map((a) => a.url),
        Array.from({ length: 20 }, (_, i) => `/items/${i}`),
      );
      const span = target.arrivals[19].at - target.arrivals[0].at;
      assert.ok(span > 300 && span < 800, `span ${span} ms for 950 ms recorded at 2x`);
    } finally {
      await target.close();
    }
  });

  it('ramps the rate up: fewer requests in the first second than in the last', async () => {
    const target = await startTarget();
    try {
      const summary = await runGenerator({
        pairs: pairs(50),
        target: target.url,
        load: { rate: 200, rampUp: '2s', duration: '3s', connections: 10 },
        observedPath: path.join(tmp.dir, 'ramp.ndjson.gz'),
      });
      // Ramp 0 -> 200/s over 2 s (200 sends), then 200/s for 1 s: about 400.
      assert.ok(Math.abs(summary.requests - 400) <= 60, `${summary.requests} requests`);
      const [first, , third] = summary.perSecond;
      assert.ok(first.requests < third.requests / 2, `${first.requests} then ${third.requests}`);
    } finally {
      await target.close();
    }
  });

  it('runs as many passes as fit in a duration, as fast as allowed', async () => {
    const target = await startTarget();
    try {
      const summary = await runGenerator({
        pairs: pairs(10),
        target: target.url,
        load: { duration: '500ms', connections: 4 },
        observedPath: path.join(tmp.dir, 'duration.ndjson.gz'),
      });
      assert.ok(summary.passes > 2, `${summary.passes} passes`);
      assert.ok(summary.durationMs >= 450 && summary.durationMs < 3000, `${summary.durationMs} ms`);
      assert.equal(summary.requests, summary.responses);
    } finally {
      await target.close();
    }
  });
});
