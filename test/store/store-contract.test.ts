/**
 * The SnapshotStore contract, run against both backends: the filesystem and S3 on a real
 * versitygw server. What a user can observe must not depend on where snapshots are kept.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import type { RRPair } from '../../src/model/traffic.js';
import { CorruptSnapshotError, InvalidSnapshotIdError, SnapshotExistsError } from '../../src/store/errors.js';
import { SnapshotTally } from '../../src/store/tally.js';
import { SnapshotNotFoundError } from '../../src/store/types.js';
import { filesystem, s3, type Backend } from './backends.js';
import { textBody } from '../../tools/fixtures/pairs.js';
import { pair } from './pairs.js';

after(() => Promise.all([filesystem.close(), s3.close()]));

async function collect(it: AsyncIterable<RRPair>): Promise<RRPair[]> {
  const out: RRPair[] = [];
  for await (const p of it) out.push(p);
  return out;
}

const ndjsonGz = (pairs: RRPair[]) => gzipSync(pairs.map((p) => JSON.stringify(p) + '\n').join(''));

for (const backend of [filesystem, s3] as Backend[]) {
  const name = (what: string) => `${backend.name}: ${what}`;

  test(name('write, seal, list and read back; nothing is visible before seal'), async () => {
    const { store, stored } = await backend.open();
    const written = [pair(17), pair(18), pair(3, { direction: 'outbound' }, '/v1/charges/9')];
    const writer = await store.createWriter({ id: 'snap-a', service: 'orders', source: 'capture' });
    for (const p of written) await writer.append(p);
    assert.deepEqual(await store.list(), []);
    assert.equal(await store.exists('snap-a'), false);
    await assert.rejects(store.getManifest('snap-a'), SnapshotNotFoundError);

    const m = await writer.seal({ filtered: 2 });
    assert.equal(m.counts.pairs, 3);
    assert.equal(m.counts.outbound, 1);
    assert.deepEqual(m.counts.dropped, { sidecar: 0, forwarder: 0, filtered: 2 });
    assert.equal(m.window.start, pair(3).startedAt);
    assert.deepEqual(await store.getManifest('snap-a'), m);
    assert.deepEqual(await collect(store.readPairs('snap-a')), written);
    assert.deepEqual(
      (await store.list()).map((x) => x.id),
      ['snap-a'],
    );
    // One manifest and the traffic parts it names, nothing else.
    const files = (await stored()).map((f) => f.replace(/^snap-a\//, ''));
    assert.deepEqual(files, ['manifest.json', ...(m.parts ?? ['traffic.ndjson.gz'])].sort());
  });

  test(name('lines of every size and script are stored whole, and counted in UTF-8 bytes'), async () => {
    const { store } = await backend.open();
    // Small lines fill the writer's batches; multibyte text (2-, 3- and 4-byte UTF-8) and a line
    // far past its buffer (about 600 KB of UTF-8) take the other paths.
    const body = (i: number) =>
      i % 50 === 7 ? 'é€😀'.repeat(70_000) : i % 5 === 0 ? `naïve ${'日本'.repeat(i)} 😀` : `plain ${i}`;
    const written = Array.from({ length: 400 }, (_, i) => {
      const p = pair(i);
      return { ...p, response: { ...p.response!, body: textBody(body(i)) } };
    });
    const writer = await store.createWriter({ id: 'snap-sizes', service: 'orders', source: 'capture' });
    for (const p of written) await writer.append(p);
    const m = await writer.seal();
    const bytes = written.reduce((n, p) => n + Buffer.byteLength(JSON.stringify(p) + '\n'), 0);
    assert.equal(m.counts.bytes, bytes);
    assert.deepEqual(await collect(store.readPairs('snap-sizes')), written);
  });

  test(
    name('lines encoded elsewhere with their tally make the snapshot the pairs make appended one by one'),
    async () => {
      const { store } = await backend.open();
      const written = Array.from({ length: 300 }, (_, i) =>
        pair((i * 7) % 300, i % 3 ? {} : { direction: 'outbound' }, `/v1/items/${'abcd'[i % 4]}`),
      );
      const one = await store.createWriter({ id: 'snap-pairs', service: 'orders', source: 'capture' });
      for (const p of written) await one.append(p);
      const expected = await one.seal();
      // In batches of 1, 40 and 259 pairs: small ones join the writer's buffer, a big one goes whole.
      const lines = await store.createWriter({ id: 'snap-lines', service: 'orders', source: 'capture' });
      for (const [from, to] of [
        [0, 1],
        [1, 41],
        [41, 300],
      ]) {
        const tally = new SnapshotTally();
        const text = written
          .slice(from, to)
          .map((p) => {
            const line = JSON.stringify(p) + '\n';
            tally.add(p, Buffer.byteLength(line));
            return line;
          })
          .join('');
        await lines.appendLines(Buffer.from(text), tally.summary());
      }
      assert.deepEqual(lines.stats(), one.stats());
      const m = await lines.seal();
      const same = (x: typeof m) => ({ ...x, id: '', createdAt: '', sealedAt: '', parts: undefined });
      assert.deepEqual(same(m), same(expected));
      assert.equal(m.endpoints.length, 8);
      assert.deepEqual(await collect(store.readPairs('snap-lines')), written);
    },
  );

  test(name('abort removes everything written and is idempotent'), async () => {
    const { store, stored } = await backend.open();
    const writer = await store.createWriter({ id: 'snap-ab', service: 'orders', source: 'capture' });
    for (let i = 0; i < 100; i++) await writer.append(pair(i));
    await writer.abort();
    await writer.abort();
    assert.deepEqual(await store.list(), []);
    assert.equal(await store.exists('snap-ab'), false);
    assert.deepEqual(await stored(), []);
    await assert.rejects(async () => writer.append(pair(1)), /aborted/);
    await assert.rejects(writer.seal(), /aborted/);
  });

  test(name('sealing onto an existing id fails, keeps the first snapshot, and leaves no part'), async () => {
    const { store, stored } = await backend.open();
    const first = await store.createWriter({ id: 'snap-dup', service: 'orders', source: 'capture' });
    const second = await store.createWriter({ id: 'snap-dup', service: 'orders', source: 'capture' });
    await first.append(pair(1));
    await second.append(pair(2));
    const m = await first.seal();
    await assert.rejects(second.seal(), SnapshotExistsError);
    assert.deepEqual(
      (await collect(store.readPairs('snap-dup'))).map((p) => p.id),
      ['p-1'],
    );
    const files = (await stored()).map((f) => f.replace(/^snap-dup\//, ''));
    assert.deepEqual(files, ['manifest.json', ...(m.parts ?? ['traffic.ndjson.gz'])].sort());
    await assert.rejects(
      store.createWriter({ id: 'snap-dup', service: 'x', source: 'capture' }),
      SnapshotExistsError,
    );
  });

  test(name('ids that could escape the store are refused; unknown ids are not found'), async () => {
    const { store, stored } = await backend.open();
    for (const id of ['../evil', 'a/b', '.partial-x', 'snap..x', '']) {
      await assert.rejects(
        store.createWriter({ id, service: 's', source: 'capture' }),
        InvalidSnapshotIdError,
      );
      await assert.rejects(store.getManifest(id), InvalidSnapshotIdError);
      await assert.rejects(collect(store.readPairs(id)), InvalidSnapshotIdError);
    }
    assert.deepEqual(await stored(), []);
    await assert.rejects(store.getManifest('snap-none'), SnapshotNotFoundError);
    await assert.rejects(collect(store.readPairs('snap-none')), SnapshotNotFoundError);
    await assert.rejects(store.remove('snap-none'), SnapshotNotFoundError);
    assert.equal(await store.exists('snap-none'), false);
  });

  test(name('traffic without a manifest never lists; a corrupt manifest names the field'), async () => {
    const { store, put } = await backend.open();
    await put('snap-orphan', 'traffic.ndjson.gz', ndjsonGz([pair(1)]));
    assert.deepEqual(await store.list(), []);
    assert.equal(await store.exists('snap-orphan'), false);
    await assert.rejects(collect(store.readPairs('snap-orphan')), SnapshotNotFoundError);

    const w = await store.createWriter({ id: 'snap-bad', service: 'orders', source: 'capture' });
    const m = await w.seal();
    await put('snap-bad', 'manifest.json', JSON.stringify({ ...m, counts: { ...m.counts, pairs: 'many' } }));
    await assert.rejects(
      store.getManifest('snap-bad'),
      /snapshot "snap-bad": manifest\.json: counts\.pairs: /,
    );
    assert.deepEqual(await store.list(), [], 'list skips it');
  });

  test(name('a damaged traffic part fails the read naming the snapshot and the part'), async () => {
    const { store, put } = await backend.open();
    const w = await store.createWriter({ id: 'snap-gz', service: 'orders', source: 'capture' });
    for (let i = 0; i < 50; i++) await w.append(pair(i));
    const m = await w.seal();
    const part = m.parts?.[0] ?? 'traffic.ndjson.gz';
    const gz = ndjsonGz(Array.from({ length: 50 }, (_, i) => pair(i)));
    await put('snap-gz', part, gz.subarray(0, gz.length - 20));
    await assert.rejects(collect(store.readPairs('snap-gz')), (err: Error) => {
      assert.ok(err instanceof CorruptSnapshotError);
      assert.ok(err.message.includes(`snapshot "snap-gz": ${part}`), err.message);
      return true;
    });
  });

  test(name('a snapshot of several parts reads back merged in capture order'), async () => {
    const { store, put } = await backend.open();
    // Two writers (forwarder replicas) each kept their own arrival order.
    const a = [pair(1), pair(4), pair(5), pair(9)];
    const b = [pair(2), pair(3), pair(6), pair(7), pair(8)];
    const w = await store.createWriter({ id: 'snap-parts', service: 'orders', source: 'capture' });
    for (const p of [...a, ...b]) await w.append(p);
    const m = await w.seal();
    await put('snap-parts', 'traffic-a.ndjson.gz', ndjsonGz(a));
    await put('snap-parts', 'traffic-b.ndjson.gz', ndjsonGz(b));
    await put(
      'snap-parts',
      'manifest.json',
      JSON.stringify({ ...m, parts: ['traffic-a.ndjson.gz', 'traffic-b.ndjson.gz'] }),
    );
    assert.deepEqual(
      (await collect(store.readPairs('snap-parts'))).map((p) => p.id),
      ['p-1', 'p-2', 'p-3', 'p-4', 'p-5', 'p-6', 'p-7', 'p-8', 'p-9'],
    );
    assert.equal(
      await store.rawTraffic!('snap-parts'),
      undefined,
      'several parts cannot be sent as one file',
    );
  });

  test(name('remove deletes the manifest and every part; removing again is not found'), async () => {
    const { store, stored } = await backend.open();
    const w = await store.createWriter({ id: 'snap-rm', service: 'orders', source: 'capture' });
    await w.append(pair(1));
    await w.seal();
    await store.remove('snap-rm');
    assert.equal(await store.exists('snap-rm'), false);
    assert.deepEqual(await stored(), []);
    await assert.rejects(store.remove('snap-rm'), SnapshotNotFoundError);
  });
}
