/**
 * `POST /v1/tap` on a real forwarder, its batches decoded inline and on ingest threads; these
 * check what neither may change: a batch that does not parse is refused whole (nothing of it
 * stored), a retried batch number is acknowledged without storing twice, and an exchange that
 * cannot be read is refused in its place while the rest of the batch is stored in order.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { postTap, tapBatch as batch } from '../helpers/tap-batch.js';
import { collect, startHarness, type Harness } from './harness.js';

// Inline on the main thread, and on ingest threads (src/forwarder/lanes.ts): the same answers.
for (const ingestThreads of [0, 2])
  describe(`forwarder tap batches, ${ingestThreads} ingest threads`, () => {
    let h: Harness;
    const post = (seq: number, body: Buffer, sidecar = 'sc-1') => postTap(h.url, seq, body, sidecar);
    const stored = async (id: string) => {
      await h.call('POST', `/v1/recordings/${id}/seal`);
      return (await collect(h.store.readPairs(id))).map((p) => p.request.path);
    };

    before(async () => {
      h = await startHarness({ ingestThreads });
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
