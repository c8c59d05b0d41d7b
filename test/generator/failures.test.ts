import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runGenerator } from '../../src/generator/index.js';
import { eventually, observed, pairs, startTarget, tempDir } from './helpers.js';

describe('generator: cancellation and failing targets', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  before(async () => {
    tmp = await tempDir();
  });
  after(async () => {
    await tmp.remove();
  });

  it('stops sending when aborted: canceled, partial counts, no socket left open on the target', async () => {
    const target = await startTarget((_req, res) => setTimeout(() => res.end('{}'), 50));
    try {
      const controller = new AbortController();
      const file = path.join(tmp.dir, 'abort.ndjson.gz');
      const connections = 10;
      const run = runGenerator({
        pairs: pairs(2000),
        target: target.url,
        load: { connections },
        observedPath: file,
        signal: controller.signal,
      });
      await eventually(() => target.arrivals.length >= 50);
      const arrivedAtAbort = target.arrivals.length;
      controller.abort();
      const summary = await run;
      assert.equal(summary.canceled, true);
      assert.ok(summary.requests >= 50 && summary.requests < 2000, `${summary.requests} sent`);
      assert.equal(summary.requests, summary.responses + summary.errors);
      assert.ok((summary.errorsByKind.canceled ?? 0) <= connections, 'only requests in flight were cut');
      assert.equal(
        (await observed(file)).length,
        summary.requests,
        'every sent request has an observed line',
      );
      await eventually(() => target.openSockets() === 0, 2000);
      // Nothing new after the abort: at most the requests already on their way when it came.
      assert.ok(
        target.arrivals.length <= arrivedAtAbort + connections,
        `${target.arrivals.length - arrivedAtAbort} requests arrived after the abort`,
      );
    } finally {
      await target.close();
    }
  });

  it('sends nothing when the signal is already aborted', async () => {
    const target = await startTarget();
    try {
      const summary = await runGenerator({
        pairs: pairs(10),
        target: target.url,
        observedPath: path.join(tmp.dir, 'pre-aborted.ndjson.gz'),
        signal: AbortSignal.abort(),
      });
      assert.deepEqual([summary.canceled, summary.requests, target.arrivals.length], [true, 0, 0]);
    } finally {
      await target.close();
    }
  });

  it('cuts requests in flight when aborted, before their timeout, while the target does not answer', async () => {
    const target = await startTarget(() => {});
    try {
      const controller = new AbortController();
      const file = path.join(tmp.dir, 'hung.ndjson.gz');
      const timeoutMs = 30_000;
      const run = runGenerator({
        pairs: pairs(100),
        target: target.url,
        load: { connections: 5, timeout: `${timeoutMs}ms` },
        observedPath: file,
        signal: controller.signal,
      });
      await eventually(() => target.arrivals.length === 5);
      controller.abort();
      const summary = await run;
      // Cancelled, not timed out: each ended before the request timeout would have fired.
      assert.deepEqual(summary.errorsByKind, { canceled: 5 });
      assert.equal(summary.timeouts, 0);
      const cut = await observed(file);
      assert.deepEqual(
        cut.map((o) => o.error),
        Array(5).fill('canceled'),
      );
      for (const o of cut) assert.ok(o.latencyMs < timeoutMs, `${o.pairId} waited ${o.latencyMs} ms`);
      await eventually(() => target.openSockets() === 0, 2000);
    } finally {
      await target.close();
    }
  });

  it('counts errors by kind: connections closed mid-request, timeouts, 5xx answers', async () => {
    const target = await startTarget((req, res) => {
      const i = Number(req.url?.split('/').pop());
      if (i % 3 === 0) req.socket.destroy();
      else if (i % 3 === 1)
        return; // never answers
      else {
        res.statusCode = 500;
        res.end('{"error":"boom"}');
      }
    });
    try {
      const file = path.join(tmp.dir, 'errors.ndjson.gz');
      const summary = await runGenerator({
        pairs: pairs(30),
        target: target.url,
        load: { connections: 10, timeout: '300ms' },
        observedPath: file,
      });
      assert.equal(summary.requests, 30);
      assert.equal(target.arrivals.length, 30, 'a failed request is not retried');
      assert.deepEqual(summary.errorsByKind, { ECONNRESET: 10, timeout: 10 });
      assert.equal(summary.timeouts, 10);
      assert.equal(summary.errors, 20);
      assert.deepEqual(summary.statusCounts, { 500: 10 });
      const lines = await observed(file);
      const byPair = new Map(lines.map((l) => [l.pairId, l]));
      assert.equal(byPair.get('pair-3')?.error, 'ECONNRESET');
      assert.equal(byPair.get('pair-4')?.error, 'timeout');
      assert.ok((byPair.get('pair-4')?.latencyMs ?? 0) >= 290);
      assert.equal(byPair.get('pair-5')?.response?.status, 500);
    } finally {
      await target.close();
    }
  });

  it('counts refused connections and backs off instead of spinning', async () => {
    // A port nothing listens on: bind one, then close it.
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const { port } = probe.address() as net.AddressInfo;
    await new Promise<void>((r) => probe.close(() => r()));
    const summary = await runGenerator({
      pairs: pairs(20),
      target: `http://127.0.0.1:${port}`,
      load: { connections: 4 },
      observedPath: path.join(tmp.dir, 'refused.ndjson.gz'),
    });
    assert.deepEqual(summary.errorsByKind, { ECONNREFUSED: 20 });
    assert.equal(summary.responses, 0);
    // Five refusals per connection wait 25 + 50 + 100 + 200 ms between them.
    assert.ok(summary.durationMs >= 300, `${summary.durationMs} ms`);
  });

  it('backs off from a target that accepts connections and drops them at once', async () => {
    const dropper = net.createServer((s) => s.destroy());
    await new Promise<void>((r) => dropper.listen(0, '127.0.0.1', r));
    try {
      const summary = await runGenerator({
        pairs: pairs(20),
        target: `http://127.0.0.1:${(dropper.address() as net.AddressInfo).port}`,
        load: { connections: 4 },
        observedPath: path.join(tmp.dir, 'dropped.ndjson.gz'),
      });
      assert.equal(summary.errors, 20);
      assert.equal(summary.responses, 0);
      assert.ok(summary.durationMs >= 300, `${summary.durationMs} ms`);
    } finally {
      await new Promise<void>((r) => dropper.close(() => r()));
    }
  });

  it('keeps memory bounded: in flight never exceeds the connections against a slow target', async () => {
    let inFlight = 0;
    let peak = 0;
    const target = await startTarget((_req, res) => {
      peak = Math.max(peak, ++inFlight);
      setTimeout(() => {
        inFlight--;
        res.end('{}');
      }, 20);
    });
    try {
      await runGenerator({
        pairs: pairs(200),
        target: target.url,
        load: { connections: 8 },
        observedPath: path.join(tmp.dir, 'slow.ndjson.gz'),
      });
      assert.ok(peak <= 8 && peak >= 6, `peak ${peak} in flight`);
    } finally {
      await target.close();
    }
  });
});
