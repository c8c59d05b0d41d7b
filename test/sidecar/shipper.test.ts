import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { TAP_CONTENT_TYPE } from '../../src/protocols/capture/frames.js';
import {
  type ForwarderDouble,
  type Listening,
  request,
  sidecarWith,
  startApp,
  startForwarderDouble,
  waitFor,
} from './helpers.js';

async function closedPortUrl(): Promise<string> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as net.AddressInfo;
  await new Promise((r) => s.close(r));
  return `http://127.0.0.1:${port}`;
}

async function drive(port: number, n: number, prefix: string): Promise<number[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 10 });
  const statuses = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      request({ port, host: '127.0.0.1', agent, path: `/${prefix}/${i}` }).then((r) => r.status),
    ),
  );
  agent.destroy();
  return statuses;
}

describe('shipping to the forwarder', () => {
  let app: Listening;
  before(async () => {
    app = await startApp();
  });
  after(() => app.close());

  it('a dead forwarder changes nothing for clients; the buffer bound holds and drops are counted', async () => {
    const sc = await sidecarWith({
      appPort: app.port,
      forwarder: await closedPortUrl(),
      bufferPairs: 50,
      drainTimeoutMs: 300,
    });
    const statuses = await drive(sc.inPort, 300, 'dead');
    assert.deepEqual(new Set(statuses), new Set([200]));
    await waitFor('all 300 pairs accounted', () => sc.stats().pairs === 300);
    const s = sc.stats();
    assert.ok(s.bufferedPairs <= 50, `buffered ${s.bufferedPairs} <= 50`);
    assert.equal(s.bufferedPairs + s.dropped, 300, 'every pair is either buffered or counted as dropped');
    assert.equal(s.shipped, 0);
    await waitFor('a failed POST', () => sc.stats().forwarderErrors > 0);
    const final = await sc.close();
    assert.equal(final.dropped, 300, 'what the drain could not ship is dropped too');
    assert.equal(final.bufferedPairs, 0);
  });

  it('the byte bound holds too', async () => {
    const sc = await sidecarWith({
      appPort: app.port,
      forwarder: await closedPortUrl(),
      bufferBytes: 5000,
      drainTimeoutMs: 100,
    });
    await drive(sc.inPort, 40, 'bytes');
    await waitFor('40 pairs', () => sc.stats().pairs === 40);
    const s = sc.stats();
    assert.ok(s.bufferedBytes <= 5000 && s.bufferedBytes > 0);
    assert.ok(s.dropped > 0);
    assert.equal(s.bufferedPairs + s.dropped, 40);
    await sc.close();
  });

  it('retries a failing forwarder, then delivers everything it kept, with the cumulative drop count', async () => {
    const fwd: ForwarderDouble = await startForwarderDouble();
    fwd.status = 503;
    const sc = await sidecarWith({ appPort: app.port, forwarder: fwd.url, bufferPairs: 20, batchPairs: 7 });
    try {
      await drive(sc.inPort, 30, 'retry');
      await waitFor(
        '30 pairs and a few failed attempts',
        () => sc.stats().pairs === 30 && sc.stats().forwarderErrors >= 2,
      );
      assert.equal(sc.stats().dropped, 10);
      fwd.status = 202;
      // The stand-in keeps the lines before it answers: wait for the sidecar to hear back too.
      await waitFor('20 delivered', () => fwd.pairs.length === 20 && sc.stats().shipped === 20);
      assert.equal(sc.stats().bufferedPairs, 0);
      assert.ok(
        fwd.batches.every((b) => b.lines <= 7),
        'batches respect --batch-pairs',
      );
      assert.ok(fwd.batches.every((b) => b.headers['x-reprise-sidecar-dropped'] === '10'));
      assert.ok(fwd.batches.every((b) => b.headers['content-type'] === TAP_CONTENT_TYPE));
      assert.ok(fwd.batches.every((b) => b.headers['x-reprise-service'] === 'app'));
    } finally {
      await sc.close();
      await fwd.close();
    }
  });

  it('drops a batch the forwarder refuses (4xx) instead of blocking behind it', async () => {
    const fwd = await startForwarderDouble();
    fwd.status = 400;
    const sc = await sidecarWith({ appPort: app.port, forwarder: fwd.url });
    try {
      await drive(sc.inPort, 5, 'refused');
      await waitFor('dropped', () => sc.stats().dropped === 5);
      fwd.status = 202;
      await drive(sc.inPort, 3, 'accepted');
      await waitFor('3 delivered', () => fwd.pairs.length === 3);
    } finally {
      await sc.close();
      await fwd.close();
    }
  });

  it('flushes what is buffered when closed', async () => {
    const fwd = await startForwarderDouble();
    const sc = await sidecarWith({
      appPort: app.port,
      forwarder: fwd.url,
      flushMs: 60_000,
      batchPairs: 1000,
    });
    await drive(sc.inPort, 25, 'flush');
    await waitFor('25 pairs', () => sc.stats().pairs === 25);
    assert.equal(fwd.pairs.length, 0, 'nothing shipped before the flush interval');
    const final = await sc.close();
    assert.equal(fwd.pairs.length, 25);
    assert.equal(final.shipped, 25);
    await fwd.close();
  });

  it('without a forwarder, counts the pairs and discards them', async () => {
    const sc = await sidecarWith({ appPort: app.port });
    await drive(sc.inPort, 10, 'none');
    await waitFor('10 pairs', () => sc.stats().pairs === 10);
    const final = await sc.close();
    assert.equal(final.bufferedPairs, 0);
    assert.equal(final.dropped, 0);
  });

  it('serves /healthz, /stats and Prometheus /metrics on the admin port', async () => {
    const sc = await sidecarWith({ appPort: app.port, adminPort: 0 });
    try {
      await drive(sc.inPort, 3, 'admin');
      await waitFor('3 pairs', () => sc.stats().pairs === 3);
      const base = { port: sc.adminPort, host: '127.0.0.1' };
      const health = await request({ ...base, path: '/healthz' });
      assert.deepEqual(JSON.parse(health.body.toString()), { status: 'ok' });
      const stats = JSON.parse((await request({ ...base, path: '/stats' })).body.toString());
      for (const k of [
        'pairs',
        'shipped',
        'dropped',
        'bufferedPairs',
        'bufferedBytes',
        'bytes',
        'forwarderErrors',
        'ignored',
      ]) {
        assert.equal(typeof stats[k], 'number', k);
      }
      assert.equal(stats.pairs, 3);
      const metrics = (await request({ ...base, path: '/metrics' })).body.toString();
      assert.match(metrics, /^reprise_sidecar_pairs_total 3$/m);
      for (const m of [
        'dropped_total',
        'shipped_total',
        'buffered_pairs',
        'forwarder_errors_total',
        'ignored_total',
        'parse_errors_total',
      ]) {
        assert.match(metrics, new RegExp(`^reprise_sidecar_${m} \\d+$`, 'm'));
      }
    } finally {
      await sc.close();
    }
  });
});
