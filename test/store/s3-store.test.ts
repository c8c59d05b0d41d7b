/**
 * What only the S3 store has: multipart uploads in bounded memory, writers killed mid-upload,
 * the server going away under a writer, replay results in the bucket, and its configuration.
 * Against a real versitygw server.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { gzipSync, gunzipSync } from 'node:zlib';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { openStores, StoreConfigError } from '../../src/store/open.js';
import type { S3SnapshotStore } from '../../src/store/s3/store.js';
import { TestS3Server } from '../../tools/versitygw.js';
import { exposeGc, heldBytes } from '../helpers/memory.js';
import { pair } from './pairs.js';

const here = path.dirname(fileURLToPath(import.meta.url));
let server: TestS3Server;
let home: string;
let prefixes = 0;

before(async () => {
  server = await TestS3Server.start();
  home = await mkdtemp(path.join(tmpdir(), 'reprise-s3-store-'));
});
after(async () => {
  await server?.close();
  await rm(home, { recursive: true, force: true });
});

/** A store in a fresh prefix; `env` overrides (REPRISE_S3_RETRY_SECONDS, ...). */
function open(env: Record<string, string> = {}) {
  const all = { ...server.env(`s3-${++prefixes}`), ...env };
  const stores = openStores(home, all);
  return { ...stores, store: stores.snapshots as S3SnapshotStore, env: all };
}

const mb = (x: number) => `${(x / 1e6).toFixed(1)} MB`;

/**
 * Samples what the process holds while `work` runs: `retained` right after full collections
 * (what the stream keeps alive), `peak` between them (garbage included).
 */
function memoryProbe() {
  const gc = exposeGc();
  gc();
  const base = heldBytes();
  const probe = { peak: 0, retained: 0 };
  return {
    probe,
    sample(i: number) {
      if (i % 500 === 0) probe.peak = Math.max(probe.peak, heldBytes() - base);
      if (i % 5000 === 0) {
        gc();
        probe.retained = Math.max(probe.retained, heldBytes() - base);
      }
    },
  };
}

test('a 100 MB snapshot streams up as a multipart upload and back in bounded memory', async () => {
  const { store } = open();
  const n = 25_000;
  const writing = memoryProbe();
  const writer = await store.createWriter({ id: 'snap-big', service: 'orders', source: 'capture' });
  for (let i = 1; i <= n; i++) {
    // Incompressible bodies: the upload is about as big as the NDJSON.
    const filler = randomBytes(3000).toString('base64');
    await writer.append(pair(i - 1, { tags: { filler } }));
    writing.sample(i);
  }
  const m = await writer.seal();
  const total = m.counts.bytes;
  assert.ok(total > 100e6, `wrote ${mb(total)}`);
  // A part in the making and two in flight (8 MiB each), plus the gzip and socket buffers;
  // the peak counts garbage not yet collected, so it is only held below the whole snapshot.
  const w = writing.probe;
  assert.ok(w.retained < 40e6, `writing retained ${mb(w.retained)} while uploading ${mb(total)}`);
  assert.ok(w.peak < total * 0.8, `writing peaked ${mb(w.peak)} above base while uploading ${mb(total)}`);

  const head = await server.client().send(
    new HeadObjectCommand({
      Bucket: server.bucket,
      Key: `s3-${prefixes}/snapshots/snap-big/${m.parts![0]}`,
    }),
  );
  assert.match(head.ETag ?? '', /-\d+"?$/, 'a multipart object has an ETag ending in -<parts>');
  assert.ok(Number(/-(\d+)/.exec(head.ETag!)![1]) >= 5, `ETag ${head.ETag}`);

  const reading = memoryProbe();
  let count = 0;
  for await (const p of store.readPairs('snap-big', { validate: false })) {
    reading.sample(++count);
    assert.equal(p.id, `p-${count - 1}`);
  }
  assert.equal(count, n);
  const r = reading.probe;
  assert.ok(r.retained < 24e6, `reading retained ${mb(r.retained)} while reading ${mb(total)}`);
  assert.ok(r.peak < total * 0.8, `reading peaked ${mb(r.peak)} above base while reading ${mb(total)}`);
  await store.remove('snap-big');
});

test('a writer killed mid-upload leaves nothing that lists; cleanPartials aborts its upload', async () => {
  const { store, env } = open();
  const child = spawn(process.execPath, [path.join(here, 'crash-writer.js'), home, 'snap-crash', 'big'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  // Killed once its multipart upload has begun on the server.
  const deadline = Date.now() + 60_000;
  while ((await store.objects.pendingUploads('snapshots/')).length === 0) {
    assert.ok(Date.now() < deadline, 'the writer never began a multipart upload');
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  await once(child, 'exit');

  assert.deepEqual(await store.list(), []);
  assert.equal(await store.exists('snap-crash'), false);
  const pending = await store.objects.pendingUploads('snapshots/');
  assert.equal(pending.length, 1);
  assert.match(pending[0].key, /^snapshots\/snap-crash\/traffic-[0-9a-f]+\.ndjson\.gz$/);

  assert.deepEqual(await store.cleanPartials(3600_000), [], 'recent uploads are kept');
  assert.deepEqual(await store.cleanPartials(0), [pending[0].key]);
  assert.deepEqual(await store.objects.pendingUploads('snapshots/'), []);
  // The id is free again.
  const w = await store.createWriter({ id: 'snap-crash', service: 'orders', source: 'capture' });
  await w.append(pair(1));
  assert.equal((await w.seal()).counts.pairs, 1);
});

/** Appends `count` incompressible pairs from `from`: ~4 KB each. */
async function appendBig(
  writer: { append(p: ReturnType<typeof pair>): Promise<void> | undefined },
  from: number,
  count: number,
) {
  for (let i = from; i < from + count; i++)
    await writer.append(pair(i, { tags: { filler: randomBytes(3000).toString('base64') } }));
}

test('a server that goes away and comes back under a writer holds the writer back and loses nothing', async () => {
  const { store } = open({ REPRISE_S3_RETRY_SECONDS: '60' });
  const writer = await store.createWriter({ id: 'snap-blip', service: 'orders', source: 'capture' });
  await appendBig(writer, 0, 3000); // ~12 MB: the first part is on its way
  await server.stop();
  // ~40 MB more while the server is down: more than the parts the writer may hold.
  let appended = false;
  const appending = appendBig(writer, 3000, 10_000).then(() => (appended = true));
  await new Promise((r) => setTimeout(r, 2000));
  assert.equal(appended, false, 'the writer pushes back while its parts cannot be uploaded');
  await server.resume();
  await appending;
  const m = await writer.seal();
  assert.equal(m.counts.pairs, 13_000);
  let count = 0;
  for await (const p of store.readPairs('snap-blip', { validate: false })) assert.equal(p.id, `p-${count++}`);
  assert.equal(count, 13_000);
  await store.remove('snap-blip');
});

test('a server gone for good fails the seal, counting the pairs lost; nothing ever lists', async () => {
  const { store } = open({ REPRISE_S3_RETRY_SECONDS: '2' });
  const writer = await store.createWriter({ id: 'snap-gone', service: 'orders', source: 'capture' });
  for (let i = 0; i < 10; i++) await writer.append(pair(i));
  await server.stop();
  try {
    await assert.rejects(writer.seal(), (err: Error) => {
      assert.match(err.message, /snapshot "snap-gone" was not sealed, its 10 pairs are lost/);
      assert.match(err.message, new RegExp(`s3://${server.bucket}/s3-${prefixes}/`));
      return true;
    });
  } finally {
    await server.resume();
  }
  assert.deepEqual(await store.list(), []);
  assert.equal(await store.exists('snap-gone'), false);
});

test('replay results round-trip through the bucket: observed stream, summary, report', async () => {
  const { results, store } = open();
  assert.equal(results.remote, true);
  assert.equal(await results.openObserved('r-1'), undefined);
  assert.equal(await results.getSummary('r-1'), undefined);
  const lines = Array.from({ length: 1000 }, (_, i) => JSON.stringify({ i }) + '\n').join('');
  await results.putObserved('r-1', Readable.from([gzipSync(lines)]));
  await results.putSummary('r-1', '{"requests":1000}');
  const chunks: Buffer[] = [];
  for await (const c of (await results.openObserved('r-1'))!) chunks.push(c as Buffer);
  assert.equal(gunzipSync(Buffer.concat(chunks)).toString(), lines);
  assert.equal(await results.getSummary('r-1'), '{"requests":1000}');
  const report = path.join(home, 'report.json');
  await writeFile(report, '{"verdict":"Passed"}');
  await results.putReport('r-1', [report]);
  const { objects } = await store.objects.list('replays/r-1/');
  assert.deepEqual(objects.map((o) => o.key).sort(), [
    'replays/r-1/generator-summary.json',
    'replays/r-1/observed.ndjson.gz',
    'replays/r-1/report.json',
  ]);
});

test('REPRISE_STORE and REPRISE_S3_ENDPOINT are checked, naming the variable and what was expected', () => {
  const bad: [Record<string, string>, RegExp][] = [
    [{ REPRISE_STORE: 'ftp://bucket' }, /REPRISE_STORE: expected s3:\/\/BUCKET/],
    [{ REPRISE_STORE: 's3://' }, /REPRISE_STORE: bucket "" is not a valid bucket name/],
    [{ REPRISE_STORE: 's3://Has_Caps' }, /REPRISE_STORE: bucket "Has_Caps"/],
    [{ REPRISE_STORE: 's3://bucket/a/../b' }, /REPRISE_STORE: prefix segment "\.\."/],
    [
      { REPRISE_STORE: 's3://bucket', REPRISE_S3_ENDPOINT: 'localhost:9000' },
      /REPRISE_S3_ENDPOINT: expected/,
    ],
    [{ REPRISE_STORE: 's3://bucket', REPRISE_S3_ENDPOINT: 'http://h/path' }, /REPRISE_S3_ENDPOINT: expected/],
    [
      { REPRISE_STORE: 's3://bucket', REPRISE_S3_RETRY_SECONDS: 'soon' },
      /REPRISE_S3_RETRY_SECONDS: expected/,
    ],
  ];
  for (const [env, message] of bad) {
    assert.throws(
      () => openStores(home, env),
      (err: Error) => err instanceof StoreConfigError && message.test(err.message),
    );
  }
  const { snapshots } = openStores(home, {
    REPRISE_STORE: 's3://my.bucket/team/a/',
    REPRISE_S3_ENDPOINT: 'http://127.0.0.1:1',
  });
  assert.equal(snapshots.root, 's3://my.bucket/team/a/snapshots/ at http://127.0.0.1:1');
  assert.equal(openStores(home, {}).snapshots.root, path.join(home, 'snapshots'));
});
