/**
 * Tap batches on ingest lanes (src/forwarder/lanes.ts), on a real forwarder with its batches
 * decoded inline and on ingest threads: a seal sent while a batch is being decoded waits for
 * it, every sidecar keeps its lane (its batch numbers and HTTP/2 state live there), the DLP
 * counts of the threads reach /metrics, and a full lane refuses with 503 (counted) a batch that
 * is taken when sent again.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { defaultIngestThreads } from '../../src/forwarder/lanes.js';
import { postTap, tapBatch, type TapAnswer } from '../helpers/tap-batch.js';
import { collect, startHarness, type Harness } from './harness.js';

const paths = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `/${prefix}/${i}`);

/** A counter's value in the forwarder's /metrics text (0 when absent). */
async function metric(h: Harness, line: RegExp): Promise<number> {
  const text = (await h.call('GET', '/metrics')).body as string;
  return Number(line.exec(text)?.[1] ?? 0);
}

for (const ingestThreads of [0, 2])
  describe(`ingest lanes, ${ingestThreads} ingest threads`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness({ ingestThreads });
    });
    after(() => h.close());

    it('a seal sent while a batch is being decoded waits for it: the batch is stored whole', async () => {
      await h.call('POST', '/v1/recordings', { snapshotId: 'lane-seal', service: 'shop' });
      const body = tapBatch(paths('s', 5000));
      const before = await metric(h, /^reprise_forwarder_received_bytes_total (\d+)$/m);
      const answer = postTap(h.url, 1, body, 'sc-seal');
      // Sealed once the forwarder has read the whole batch (and so routed it), while it decodes.
      while ((await metric(h, /^reprise_forwarder_received_bytes_total (\d+)$/m)) < before + body.length)
        await new Promise((r) => setTimeout(r, 1));
      const sealed = await h.call('POST', '/v1/recordings/lane-seal/seal');
      const tap = await answer;
      assert.equal(tap.status, 202);
      assert.deepEqual(tap.body, { accepted: 5000, filtered: 0, rejected: 0, unrouted: 0 });
      assert.equal(sealed.body.counts.pairs, 5000);
      const stored = await collect(h.store.readPairs('lane-seal'));
      assert.deepEqual(
        stored.map((p) => p.request.path),
        paths('s', 5000),
      );
    });

    it('every sidecar keeps its lane: a retried batch number of each is acknowledged, stored once', async () => {
      await h.call('POST', '/v1/recordings', { snapshotId: 'lane-sticky', service: 'shop' });
      const sidecars = ['a', 'b', 'c', 'd', 'e', 'f'];
      for (const seq of [1, 2]) {
        for (const sc of sidecars) {
          const first = await postTap(h.url, seq, tapBatch([`/${sc}/${seq}`]), `sc-${sc}`);
          assert.equal(first.body.accepted, 1, `sidecar ${sc} batch ${seq}`);
          const again = await postTap(h.url, seq, tapBatch([`/${sc}/${seq}`]), `sc-${sc}`);
          assert.equal(again.body.duplicate, true, `sidecar ${sc} batch ${seq} sent again`);
        }
      }
      await h.call('POST', '/v1/recordings/lane-sticky/seal');
      const stored = (await collect(h.store.readPairs('lane-sticky'))).map((p) => p.request.path);
      assert.equal(stored.length, 12);
      assert.equal(new Set(stored).size, 12);
    });

    it('values masked on the lanes are counted in /metrics and stored masked', async () => {
      const masked = /^reprise_forwarder_dlp_masked_total\{kind="email"\} (\d+)$/m;
      const before = await metric(h, masked);
      await h.call('POST', '/v1/recordings', { snapshotId: 'lane-dlp', service: 'shop' });
      const body = (p: string) => JSON.stringify({ path: p, email: `buyer${p.length}@example.com` });
      const tap = await postTap(h.url, 1, tapBatch(paths('m', 3), { body }), 'sc-dlp');
      assert.equal(tap.body.accepted, 3);
      assert.equal((await metric(h, masked)) - before, 3);
      await h.call('POST', '/v1/recordings/lane-dlp/seal');
      for (const p of await collect(h.store.readPairs('lane-dlp'))) {
        const data = p.response?.body?.data ?? '';
        assert.doesNotMatch(data, /@example\.com/);
        assert.match(data, /"email":"REDACTED-email-[0-9a-f]+"/);
      }
    });
  });

describe('default ingest threads', () => {
  it('none on 1-2 CPUs (they contend with the main thread), else one per CPU but one, at most 4', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 64].map((cpus) => defaultIngestThreads(cpus)),
      [0, 0, 2, 3, 4, 4, 4],
    );
  });
});

describe('a full ingest lane', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ ingestThreads: 1, maxQueuedBatches: 1 });
  });
  after(() => h.close());

  it('refuses a batch with 503, counts it, and takes the batch when it is sent again', async () => {
    await h.call('POST', '/v1/recordings', { snapshotId: 'lane-busy', service: 'shop' });
    const sidecars = ['p', 'q', 'r', 's'];
    const batches = new Map(sidecars.map((sc) => [sc, tapBatch(paths(sc, 2000))]));
    const first = await Promise.all(sidecars.map((sc) => postTap(h.url, 1, batches.get(sc)!, `sc-${sc}`)));
    const refused = sidecars.filter((_, i) => first[i].status === 503);
    assert.ok(refused.length >= 1, `statuses ${first.map((a) => a.status).join(',')}`);
    for (const sc of refused)
      assert.match(String(first[sidecars.indexOf(sc)].body.error), /ingest lane busy/);
    assert.equal(await metric(h, /^reprise_forwarder_tap_busy_batches_total (\d+)$/m), refused.length);
    for (const sc of refused) {
      let again: TapAnswer;
      do again = await postTap(h.url, 1, batches.get(sc)!, `sc-${sc}`);
      while (again.status === 503);
      assert.equal(again.body.accepted, 2000, `sidecar ${sc} sent again`);
    }
    const sealed = await h.call('POST', '/v1/recordings/lane-busy/seal');
    assert.equal(sealed.body.counts.pairs, 8000);
  });
});
