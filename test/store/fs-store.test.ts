import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FsSnapshotStore } from '../../src/store/fs-store.js';
import { CorruptSnapshotError, InvalidSnapshotIdError } from '../../src/store/errors.js';
import { SnapshotNotFoundError } from '../../src/store/types.js';
import { EndpointCounter, normaliseEndpointPath } from '../../src/store/endpoints.js';
import type { RRPair } from '../../src/model/traffic.js';
import { pair } from './pairs.js';
import { exposeGc } from '../helpers/memory.js';

const here = path.dirname(fileURLToPath(import.meta.url));

const homes: string[] = [];
after(() => Promise.all(homes.map((h) => rm(h, { recursive: true, force: true }))));

async function newStore() {
  const home = await mkdtemp(path.join(tmpdir(), 'reprise-store-'));
  homes.push(home);
  return { home, store: new FsSnapshotStore(home) };
}

async function collect(it: AsyncIterable<RRPair>): Promise<RRPair[]> {
  const out: RRPair[] = [];
  for await (const p of it) out.push(p);
  return out;
}

test('write, seal, list and read back a snapshot', async () => {
  const { home, store } = await newStore();
  const written = [
    pair(17),
    pair(18),
    pair(3, { direction: 'outbound' }, '/v1/charges/6f1c2a9e-8b7d-4c3e-9f10-2a3b4c5d6e7f'),
    pair(4, {
      request: { ...pair(4).request, body: { encoding: 'utf8', data: 'ab', size: 10, truncated: true } },
    }),
  ];
  const writer = await store.createWriter({
    id: 'snap-a',
    service: 'orders',
    source: 'capture',
    meta: { wf: 'w1' },
  });
  for (const p of written) await writer.append(p);
  assert.equal(writer.stats().pairs, 4);
  assert.deepEqual(await store.list(), [], 'nothing is visible before seal');
  assert.equal(await store.exists('snap-a'), false);

  const m = await writer.seal({ filtered: 2 });
  assert.equal(m.id, 'snap-a');
  assert.equal(m.source, 'capture');
  assert.deepEqual(m.meta, { wf: 'w1' });
  assert.equal(m.counts.pairs, 4);
  assert.equal(m.counts.inbound, 3);
  assert.equal(m.counts.outbound, 1);
  assert.equal(m.counts.truncatedBodies, 1);
  assert.deepEqual(m.counts.dropped, { sidecar: 0, forwarder: 0, filtered: 2 });
  const ndjsonBytes = written.reduce((n, p) => n + Buffer.byteLength(JSON.stringify(p) + '\n'), 0);
  assert.equal(m.counts.bytes, ndjsonBytes);
  assert.equal(m.window.start, pair(3).startedAt);
  assert.equal(m.window.end, pair(18).startedAt);
  // /orders/17, /orders/18 and /orders/4 are one endpoint; the uuid is normalised too.
  assert.deepEqual(m.endpoints[0], {
    direction: 'inbound',
    method: 'GET',
    host: 'orders.local',
    path: '/orders/{id}',
    count: 3,
  });
  assert.equal(m.endpoints[1].path, '/v1/charges/{id}');
  assert.equal(m.otherEndpoints, 0);

  assert.deepEqual(await readdir(path.join(home, 'snapshots')), ['snap-a'], 'the partial folder was renamed');
  assert.deepEqual((await readdir(path.join(home, 'snapshots', 'snap-a'))).sort(), [
    'manifest.json',
    'traffic.ndjson.gz',
  ]);
  assert.deepEqual(await store.getManifest('snap-a'), m);
  assert.deepEqual(await collect(store.readPairs('snap-a')), written);
  assert.deepEqual(await collect(store.readPairs('snap-a', { validate: false })), written);

  await new Promise((r) => setTimeout(r, 5));
  const second = await store.createWriter({ service: 'orders', source: 'har-import' });
  assert.match(second.id, /^snap-/);
  const m2 = await second.seal();
  assert.equal(m2.counts.pairs, 0);
  assert.equal(m2.window.start, m2.createdAt);
  assert.deepEqual(
    (await store.list()).map((x) => x.id),
    [m2.id, 'snap-a'],
    'newest first',
  );
});

test('a writer killed mid-capture (SIGKILL) leaves nothing that lists; cleanPartials removes it', async () => {
  const { home, store } = await newStore();
  const child = spawn(process.execPath, [path.join(here, 'crash-writer.js'), home, 'snap-crash'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  child.stdout.setEncoding('utf8');
  let out = '';
  for await (const chunk of child.stdout) {
    out += chunk;
    if (out.includes('ready')) break;
  }
  assert.match(out, /ready/);
  child.kill('SIGKILL');
  await once(child, 'exit');

  const left = await readdir(path.join(home, 'snapshots'));
  assert.equal(left.length, 1);
  assert.match(left[0], /^\.partial-snap-crash-/);
  assert.deepEqual(await store.list(), []);
  assert.equal(await store.exists('snap-crash'), false);
  await assert.rejects(store.getManifest('snap-crash'), SnapshotNotFoundError);
  await assert.rejects(collect(store.readPairs('snap-crash')), SnapshotNotFoundError);

  // A live writer of this process is never cleaned, however old the threshold.
  const live = await store.createWriter({ id: 'snap-live', service: 'orders', source: 'capture' });
  assert.deepEqual(await store.cleanPartials(60_000), [], 'recent partials are kept');
  assert.deepEqual(await store.cleanPartials(0), [left[0]]);
  assert.equal((await readdir(path.join(home, 'snapshots'))).length, 1);
  await live.append(pair(1));
  assert.equal((await live.seal()).counts.pairs, 1);
});

test('ids that could escape the store are refused with a clear error', async () => {
  const { home, store } = await newStore();
  for (const id of ['../evil', '..', 'a/b', '/etc', '.partial-x', 'snap..x', '', 'a\\b']) {
    await assert.rejects(
      store.createWriter({ id, service: 's', source: 'capture' }),
      InvalidSnapshotIdError,
      id,
    );
    await assert.rejects(store.getManifest(id), /invalid snapshot id/, id);
    await assert.rejects(store.exists(id), InvalidSnapshotIdError, id);
    await assert.rejects(store.remove(id), InvalidSnapshotIdError, id);
    await assert.rejects(collect(store.readPairs(id)), InvalidSnapshotIdError, id);
  }
  assert.deepEqual(await readdir(home), [], 'nothing was created');
});

test('a corrupt manifest names the snapshot and the field; list skips it', async () => {
  const { home, store } = await newStore();
  const w = await store.createWriter({ id: 'snap-bad', service: 'orders', source: 'capture' });
  await w.seal();
  const file = path.join(home, 'snapshots', 'snap-bad', 'manifest.json');
  const manifest = JSON.parse(await readFile(file, 'utf8'));
  manifest.counts.pairs = 'many';
  await writeFile(file, JSON.stringify(manifest));
  await assert.rejects(store.getManifest('snap-bad'), (err: Error) => {
    assert.ok(err instanceof CorruptSnapshotError);
    assert.match(err.message, /snapshot "snap-bad": manifest\.json: counts\.pairs: /);
    return true;
  });
  await writeFile(file, '{"formatVersion":');
  await assert.rejects(store.getManifest('snap-bad'), /snap-bad.*not valid JSON/);
  // A folder without a manifest is not a snapshot at all.
  await mkdir(path.join(home, 'snapshots', 'snap-empty'));
  assert.deepEqual(await store.list(), []);
  await assert.rejects(store.getManifest('snap-empty'), SnapshotNotFoundError);
});

test('endpoint paths are normalised and the endpoint table is bounded', () => {
  assert.equal(normaliseEndpointPath('/orders/17/items/3'), '/orders/{id}/items/{id}');
  assert.equal(normaliseEndpointPath('/u/6F1C2A9E-8B7D-4C3E-9F10-2A3B4C5D6E7F'), '/u/{id}');
  assert.equal(normaliseEndpointPath('/o/65a1f0c2e4b0a1b2c3d4e5f6'), '/o/{id}');
  assert.equal(normaliseEndpointPath('/v1/orders'), '/v1/orders');
  assert.equal(normaliseEndpointPath('/api/v2/deadbeefcafe'), '/api/v2/deadbeefcafe');

  const counter = new EndpointCounter(2, 3);
  const add = (p: string, n: number) => {
    for (let i = 0; i < n; i++) counter.add(pair(i, {}, p));
  };
  add('/a', 1);
  add('/b/1', 5);
  add('/c', 2);
  add('/d', 4); // not tracked: the table is full
  add('/b/2', 1);
  const { endpoints, otherEndpoints } = counter.summary();
  assert.deepEqual(
    endpoints.map((e) => [e.path, e.count]),
    [
      ['/b/{id}', 6],
      ['/c', 2],
    ],
  );
  assert.equal(otherEndpoints, 1 + 4);
});

test('reading 200,000 pairs streams in bounded memory', async () => {
  const { store } = await newStore();
  const n = 200_000;
  const filler = 'x'.repeat(300); // ~0.6 KB per pair: ~120 MB of NDJSON in all
  const writer = await store.createWriter({ id: 'snap-big', service: 'orders', source: 'capture' });
  for (let i = 0; i < n; i++) await writer.append(pair(i, { tags: { filler } }));
  const m = await writer.seal();
  assert.equal(m.counts.pairs, n);
  const total = m.counts.bytes;
  assert.ok(total > 100e6, `wrote ${total} bytes`);

  const gc = exposeGc();
  gc();
  const base = process.memoryUsage().heapUsed;
  let peak = base;
  let retained = 0;
  let count = 0;
  let lastId = '';
  for await (const p of store.readPairs('snap-big')) {
    if (++count % 500 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed);
    if (count % 20_000 === 0) {
      // After a full collection only what the reader holds on to is left.
      gc();
      retained = Math.max(retained, process.memoryUsage().heapUsed - base);
    }
    lastId = p.id;
  }
  assert.equal(count, n);
  assert.equal(lastId, `p-${n - 1}`);
  const mb = (x: number) => `${(x / 1e6).toFixed(1)} MB`;
  assert.ok(retained < 16e6, `reader retained ${mb(retained)} while reading ${mb(total)}`);
  // Uncollected garbage counts here, hence the slack; loading the file whole would need > total.
  assert.ok(peak - base < total / 3, `heap peaked ${mb(peak - base)} above base while reading ${mb(total)}`);
});
