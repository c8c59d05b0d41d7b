import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { makePair } from '../../tools/fixtures/pairs.js';
import { collect, readTree, startHarness, type Harness } from './harness.js';

const open = (h: Harness, snapshotId: string, service = 'orders', extra: object = {}) =>
  h.call('POST', '/v1/recordings', { snapshotId, service, ...extra });

describe('forwarder API', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  it('health and metrics', async () => {
    assert.deepEqual(await h.call('GET', '/healthz'), { status: 200, body: { status: 'ok' } });
    const m = await h.call('GET', '/metrics');
    assert.equal(m.status, 200);
    assert.match(m.body, /^reprise_forwarder_pairs_total\{outcome="accepted"\} \d+$/m);
    assert.match(m.body, /^# TYPE reprise_forwarder_recordings_open gauge$/m);
  });

  it('open is 201, then 200 for the same id; status counts; seal is idempotent', async () => {
    const first = await open(h, 'snap-idem');
    assert.equal(first.status, 201);
    assert.deepEqual(first.body, {
      snapshotId: 'snap-idem',
      state: 'open',
      pairs: 0,
      inbound: 0,
      outbound: 0,
      bytes: 0,
      dropped: { sidecar: 0, forwarder: 0, filtered: 0 },
    });
    assert.equal((await open(h, 'snap-idem')).status, 200);
    assert.equal((await open(h, 'snap-idem', 'other')).status, 409);
    await h.postPairs([makePair(), makePair({ direction: 'outbound' })]);
    const st = await h.call('GET', '/v1/recordings/snap-idem');
    assert.equal(st.body.pairs, 2);
    assert.equal(st.body.inbound, 1);
    assert.equal(st.body.outbound, 1);
    const [a, b] = await Promise.all([
      h.call('POST', '/v1/recordings/snap-idem/seal'),
      h.call('POST', '/v1/recordings/snap-idem/seal'),
    ]);
    assert.equal(a.status, 200);
    assert.deepEqual(a.body, b.body);
    const c = await h.call('POST', '/v1/recordings/snap-idem/seal');
    assert.deepEqual(c.body, a.body);
    assert.equal(a.body.counts.pairs, 2);
    assert.equal((await h.call('GET', '/v1/recordings/snap-idem')).body.state, 'sealed');
    assert.equal((await open(h, 'snap-idem')).status, 409, 'a sealed id cannot be reopened');
    assert.equal((await h.call('DELETE', '/v1/recordings/snap-idem')).status, 409);
  });

  it('abort leaves no snapshot and no file behind', async () => {
    assert.equal((await open(h, 'snap-abort')).status, 201);
    assert.equal((await h.postPairs([makePair(), makePair()])).body.accepted, 2);
    assert.equal((await h.call('DELETE', '/v1/recordings/snap-abort')).status, 204);
    assert.equal(await h.store.exists('snap-abort'), false);
    assert.ok(!(await h.store.list()).some((m) => m.id === 'snap-abort'));
    const leftovers = [...(await readTree(h.store.root)).keys()].filter((f) => f.includes('snap-abort'));
    assert.deepEqual(leftovers, []);
    assert.equal((await h.call('GET', '/v1/recordings/snap-abort')).status, 404);
    assert.equal((await h.call('DELETE', '/v1/recordings/snap-abort')).status, 404, '404 counts as done');
    assert.equal((await h.call('POST', '/v1/recordings/snap-abort/seal')).status, 404);
  });

  it('counts malformed lines as rejected without breaking the batch', async () => {
    await open(h, 'snap-rejects');
    const good = makePair({ path: '/api/a' });
    const res = await h.postPairs(
      [
        good,
        'this is not json',
        '{"id":"x","direction":"sideways"}',
        '',
        makePair({ path: '/api/b' }),
        '{"truncated": ',
      ],
      { 'x-reprise-service': 'orders' },
    );
    assert.equal(res.status, 202);
    assert.equal(res.body.accepted, 2);
    assert.equal(res.body.rejected, 3);
    assert.equal(res.body.filtered, 0);
    assert.match(res.body.errors[0], /^line 2: invalid JSON/);
    assert.match(res.body.errors[1], /^line 3: .*direction/);
    assert.match(res.body.errors[2], /^line 6: /);
    const manifest = (await h.call('POST', '/v1/recordings/snap-rejects/seal')).body;
    assert.equal(manifest.counts.pairs, 2);
    assert.equal(manifest.counts.dropped.forwarder, 3);
  });

  it('drops health checks and telemetry by default, and counts them', async () => {
    await open(h, 'snap-filtered');
    const res = await h.postPairs([
      makePair({ path: '/healthz' }),
      makePair({ path: '/', headers: [['user-agent', 'kube-probe/1.30']] }),
      makePair({ direction: 'outbound', host: 'otel-collector', port: 4318, path: '/v1/traces' }),
      makePair({ path: '/api/orders' }),
    ]);
    assert.deepEqual(res.body, { accepted: 1, filtered: 3, rejected: 0, unrouted: 0 });
    const manifest = (await h.call('POST', '/v1/recordings/snap-filtered/seal')).body;
    assert.equal(manifest.counts.pairs, 1);
    assert.equal(manifest.counts.dropped.filtered, 3);
  });

  it('routes by service; `*` takes every service; unknown services are unrouted', async () => {
    await open(h, 'snap-a', 'svc-a');
    await open(h, 'snap-all', '*');
    const res = await h.postPairs([makePair({ service: 'svc-a' }), makePair({ service: 'svc-b' })]);
    assert.deepEqual(res.body, { accepted: 2, filtered: 0, rejected: 0, unrouted: 0 });
    const a = (await h.call('POST', '/v1/recordings/snap-a/seal')).body;
    const all = (await h.call('POST', '/v1/recordings/snap-all/seal')).body;
    assert.equal(a.counts.pairs, 1);
    assert.equal(all.counts.pairs, 2);
    const res2 = await h.postPairs([makePair({ service: 'svc-a' })]);
    assert.deepEqual(res2.body, { accepted: 0, filtered: 0, rejected: 0, unrouted: 1 });
  });

  it("records the sidecar's drops: the max per sidecar, only what grew after the recording opened", async () => {
    const hdr = (n: number, svc = 'drops') => ({
      'x-reprise-service': svc,
      'x-reprise-sidecar-dropped': String(n),
    });
    await h.postPairs([makePair({ service: 'drops' })], hdr(4));
    await open(h, 'snap-drops', 'drops');
    await h.postPairs([makePair({ service: 'drops' })], hdr(9));
    await h.postPairs([makePair({ service: 'drops' })], hdr(6)); // out of order: the max holds
    await h.postPairs([makePair({ service: 'other' })], hdr(100, 'other'));
    assert.equal((await h.call('GET', '/v1/recordings/snap-drops')).body.dropped.sidecar, 5);
    const manifest = (await h.call('POST', '/v1/recordings/snap-drops/seal')).body;
    assert.equal(manifest.counts.dropped.sidecar, 5);
  });

  it('per-recording rules override the defaults and land in the manifest', async () => {
    const filters = { defaults: false, exclude: [{ method: 'DELETE' }] };
    const res = await open(h, 'snap-rules', 'orders', { filters, dlp: false, meta: { workflowId: 'wf-1' } });
    assert.equal(res.status, 201);
    const posted = await h.postPairs([
      makePair({ path: '/healthz', headers: [['authorization', 'Bearer keep-this-one']] }),
      makePair({ method: 'DELETE' }),
    ]);
    assert.deepEqual(posted.body, { accepted: 1, filtered: 1, rejected: 0, unrouted: 0 });
    const manifest = (await h.call('POST', '/v1/recordings/snap-rules/seal')).body;
    assert.deepEqual(manifest.filters, {
      defaults: false,
      include: [],
      exclude: [{ method: 'DELETE' }],
      sampleRate: 1,
    });
    assert.equal(manifest.dlp, false);
    assert.equal(manifest.meta.workflowId, 'wf-1');
    const [pair] = await collect(h.store.readPairs('snap-rules'));
    assert.equal(pair.request.headers[0][1], 'Bearer keep-this-one');
  });

  it('concurrent batches into one recording all land', async () => {
    await open(h, 'snap-concurrent');
    const batches = Array.from({ length: 8 }, (_, b) =>
      h.postPairs(Array.from({ length: 200 }, (_, i) => makePair({ id: `c-${b}-${i}`, path: `/api/${i}` }))),
    );
    const results = await Promise.all(batches);
    assert.ok(results.every((r) => r.body.accepted === 200));
    const manifest = (await h.call('POST', '/v1/recordings/snap-concurrent/seal')).body;
    assert.equal(manifest.counts.pairs, 1600);
    const ids = new Set((await collect(h.store.readPairs('snap-concurrent'))).map((p) => p.id));
    assert.equal(ids.size, 1600);
  });

  it('clear JSON errors naming the field', async () => {
    const bad = await h.call('POST', '/v1/recordings', {
      snapshotId: 'snap-bad',
      service: 'orders',
      filters: { exclude: [{ status: 'teapot' }] },
    });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /^filters\.exclude\.0\.status: /);
    assert.match(
      (await h.call('POST', '/v1/recordings', { snapshotId: '../etc', service: 'x' })).body.error,
      /^snapshotId: /,
    );
    assert.match((await h.call('POST', '/v1/recordings', { snapshotId: 'ok-id' })).body.error, /^service: /);
    assert.match(
      (await h.call('POST', '/v1/recordings', { snapshotId: 'x', service: 'y', dlp: { detectors: ['dna'] } }))
        .body.error,
      /^dlp/,
    );
    const notJson = await h.call('POST', '/v1/recordings', '{nope');
    assert.equal(notJson.status, 400);
    assert.match(notJson.body.error, /^invalid JSON/);
    assert.equal((await h.call('GET', '/nowhere')).status, 404);
    assert.equal((await h.call('GET', '/v1/pairs')).status, 405);
    assert.equal((await h.call('GET', '/v1/recordings/bad%2F..%2Fid')).status, 400);
  });
});

describe('batch size limit', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ maxBatchBytes: 8 * 1024 });
  });
  after(() => h.close());

  const bigBatch = () =>
    Array.from({ length: 40 }, (_, i) => JSON.stringify(makePair({ path: `/api/${i}` }))).join('\n') + '\n';

  it('413 from the declared content-length, with a clear message', async () => {
    await h.call('POST', '/v1/recordings', { snapshotId: 'snap-413', service: 'orders' });
    const res = await fetch(`${h.url}/v1/pairs`, { method: 'POST', body: bigBatch() });
    assert.equal(res.status, 413);
    const body = (await res.json()) as { error: string };
    assert.match(body.error, /--max-batch-bytes \(8192 bytes\)/);
  });

  it('413 while streaming a chunked body past the limit; the server stays up', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        `${h.url}/v1/pairs`,
        { method: 'POST', headers: { 'transfer-encoding': 'chunked' } },
        (res) => {
          res.resume();
          resolve(res.statusCode!);
        },
      );
      req.on('error', reject);
      const text = bigBatch();
      for (let i = 0; i < text.length; i += 1000) req.write(text.slice(i, i + 1000));
      req.end();
    });
    assert.equal(status, 413);
    assert.deepEqual((await h.call('GET', '/healthz')).body, { status: 'ok' });
    const small = await h.postPairs([makePair()]);
    assert.equal(small.status, 202);
  });
});
