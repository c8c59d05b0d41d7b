/**
 * `POST /v1/tap` on a real forwarder: a batch is decoded pair by pair as it is stored, so these
 * check what that must not change: a batch that does not parse is refused whole (nothing of it
 * stored), a retried batch number is acknowledged without storing twice, and an exchange that
 * cannot be read is refused in its place while the rest of the batch is stored in order.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TapWriter, writeExchange } from '../../src/protocols/capture/writer.js';
import { collect, startHarness, type Harness } from './harness.js';

const EMPTY = { parts: [], kept: 0, size: 0 };

/** One EXCHANGE frame per path: GET PATH answered 200 with a small JSON body. */
function batch(paths: string[], opts: { cutLastBytes?: number; badHeadAt?: number } = {}): Buffer {
  const w = new TapWriter();
  paths.forEach((p, i) => {
    const body = Buffer.from(`{"path":"${p}"}`);
    const reqHead = i === opts.badHeadAt ? 'GET-not-a-request-line' : `GET ${p} HTTP/1.1\r\nhost: shop.test`;
    writeExchange(w, {
      conn: i + 1,
      facts: { outbound: false, https: false, host: 'shop.test', port: 80 },
      startT: 1_700_000_000_000 + i,
      endT: 1_700_000_000_002 + i,
      reqHead: Buffer.from(reqHead, 'latin1'),
      reqBody: EMPTY,
      resHead: Buffer.from(`HTTP/1.1 200 OK\r\ncontent-length: ${body.length}`, 'latin1'),
      resBody: { parts: [body], kept: body.length, size: body.length },
      switched: false,
    });
  });
  const out = w.take();
  return opts.cutLastBytes ? out.subarray(0, out.length - opts.cutLastBytes) : out;
}

describe('forwarder tap batches', () => {
  let h: Harness;
  const post = async (seq: number, body: Buffer, sidecar = 'sc-1') => {
    const res = await fetch(`${h.url}/v1/tap`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-reprise-tap',
        'x-reprise-sidecar': sidecar,
        'x-reprise-seq': String(seq),
        'x-reprise-service': 'shop',
      },
      body,
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const stored = async (id: string) => {
    await h.call('POST', `/v1/recordings/${id}/seal`);
    return (await collect(h.store.readPairs(id))).map((p) => p.request.path);
  };

  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  it('a batch cut inside its last frame is refused whole: none of its pairs is stored', async () => {
    await h.call('POST', '/v1/recordings', { snapshotId: 'tap-cut', service: 'shop' });
    const cut = await post(1, batch(['/a', '/b', '/c'], { cutLastBytes: 3 }), 'sc-cut');
    assert.equal(cut.status, 400);
    assert.match(String(cut.body.error), /tap batch 1: frame of \d+ bytes at byte \d+ runs past the batch/);
    const status = await h.call('GET', '/v1/recordings/tap-cut');
    assert.equal(status.body.pairs, 0, 'the pairs before the bad frame were not stored either');
    const next = await post(2, batch(['/d']), 'sc-cut');
    assert.equal(next.body.accepted, 1);
    assert.deepEqual(await stored('tap-cut'), ['/d']);
  });

  it('a batch number seen before is acknowledged and stores nothing twice', async () => {
    await h.call('POST', '/v1/recordings', { snapshotId: 'tap-retry', service: 'shop' });
    const first = await post(1, batch(['/x', '/y']), 'sc-retry');
    assert.deepEqual(first.body, { accepted: 2, filtered: 0, rejected: 0, unrouted: 0 });
    const again = await post(1, batch(['/x', '/y']), 'sc-retry');
    assert.equal(again.status, 202);
    assert.equal(again.body.duplicate, true);
    assert.deepEqual(await stored('tap-retry'), ['/x', '/y']);
  });

  it('an exchange whose head does not parse is refused in its place; the others are stored in order', async () => {
    await h.call('POST', '/v1/recordings', { snapshotId: 'tap-bad-head', service: 'shop' });
    const res = await post(1, batch(['/1', '/2', '/3', '/4'], { badHeadAt: 1 }), 'sc-bad');
    assert.equal(res.status, 202);
    assert.equal(res.body.accepted, 3);
    assert.equal(res.body.rejected, 1);
    assert.deepEqual(res.body.errors, [`line 2: exchange on connection 2: bad request line`]);
    const status = await h.call('GET', '/v1/recordings/tap-bad-head');
    assert.equal(status.body.dropped.forwarder, 1);
    assert.deepEqual(await stored('tap-bad-head'), ['/1', '/3', '/4']);
  });
});
