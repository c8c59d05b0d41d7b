/**
 * How replay pods reach the store in a cluster: the forwarder's snapshot API serves snapshots
 * and takes back what a generator observed; the responder and generator workers use it with
 * --snapshot-url / --upload-url. Real forwarder, real worker processes, real HTTP on loopback.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { startForwarder, type Forwarder } from '../../src/forwarder/index.js';
import { readObserved } from '../../src/generator/observed-reader.js';
import { generatorSummaryFile, observedFile } from '../../src/base/paths.js';
import { projectRoot } from '../../src/base/project-root.js';
import { FsSnapshotStore } from '../../src/store/fs-store.js';
import { HttpSnapshotStore } from '../../src/store/http-store.js';
import { SnapshotNotFoundError } from '../../src/store/types.js';
import { writeOrdersSnapshot } from './runtime-fixtures.js';

const worker = (name: string) => path.join(projectRoot, 'dist/workers', `${name}.js`);

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

describe('snapshot API for replay pods', () => {
  let home: string;
  let forwarder: Forwarder;
  let base: string;
  let snapshotId: string;

  before(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'reprise-pods-io-'));
    snapshotId = await writeOrdersSnapshot(home);
    forwarder = await startForwarder({ port: 0, home, store: new FsSnapshotStore(home) });
    base = `http://127.0.0.1:${forwarder.port}`;
  });
  after(async () => {
    await forwarder?.close();
    await rm(home, { recursive: true, force: true });
  });

  it('serves the manifest and the pairs exactly as the store holds them', async () => {
    const fs = new FsSnapshotStore(home);
    const remote = new HttpSnapshotStore(base);
    assert.deepEqual(await remote.getManifest(snapshotId), await fs.getManifest(snapshotId));
    assert.deepEqual(await collect(remote.readPairs(snapshotId)), await collect(fs.readPairs(snapshotId)));
    assert.equal(await remote.exists('snap-missing'), false);
    await assert.rejects(collect(remote.readPairs('snap-missing')), SnapshotNotFoundError);
  });

  it('lists the store through GET /snapshots (what the inspector shows with the forwarder as its store)', async () => {
    const remote = new HttpSnapshotStore(base);
    assert.deepEqual(await remote.list(), await new FsSnapshotStore(home).list());
    assert.deepEqual(
      (await remote.list()).map((m) => m.id),
      [snapshotId],
    );
  });

  it('refuses bad ids, wrong methods and oversized summaries, and still serves its own API', async () => {
    assert.equal((await fetch(`${base}/snapshots/a..b/manifest`)).status, 400);
    assert.equal(
      (await fetch(`${base}/snapshots/${snapshotId}/manifest`, { method: 'PUT', body: '{}' })).status,
      405,
    );
    assert.equal((await fetch(`${base}/replays/r1/summary`)).status, 405);
    const big = JSON.stringify({ pad: 'x'.repeat(5 * 1024 * 1024) });
    const res = await fetch(`${base}/replays/r-big/summary`, { method: 'PUT', body: big });
    assert.equal(res.status, 413);
    assert.equal(existsSync(generatorSummaryFile(home, 'r-big')), false);
    assert.equal(
      (await fetch(`${base}/replays/r-bad/summary`, { method: 'PUT', body: 'not json' })).status,
      400,
    );
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
  });

  /** The generator worker against a one-route app, uploading through the API; its exit code and stderr. */
  async function generatorPod(
    extra: string[],
    uploadId: string,
  ): Promise<{ code: number | null; stderr: string }> {
    const app: Server = createServer((req, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(`{"id":1,"path":"${req.url}"}`),
    );
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    const out = await mkdtemp(path.join(tmpdir(), 'reprise-gen-out-'));
    try {
      const child = spawn(
        process.execPath,
        [
          worker('generator'),
          `--snapshot=${snapshotId}`,
          `--snapshot-url=${base}`,
          `--target=http://127.0.0.1:${(app.address() as { port: number }).port}`,
          `--out=${path.join(out, 'observed.ndjson.gz')}`,
          `--upload-url=${base}/replays/${uploadId}`,
          ...extra,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      return { code, stderr };
    } finally {
      app.close();
      await rm(out, { recursive: true, force: true });
    }
  }

  async function assertUploaded(replayId: string, replica?: number): Promise<void> {
    const summaryText = await readFile(generatorSummaryFile(home, replayId, replica), 'utf8');
    const summary = JSON.parse(summaryText) as { requests: number; responses: number; replica?: string };
    assert.equal(summary.requests, 1);
    assert.equal(summary.responses, 1);
    const observed = await collect(readObserved(observedFile(home, replayId, replica)));
    assert.equal(observed.length, 1);
    assert.equal(observed[0].response?.status, 200);
  }

  it('a generator with --snapshot-url and --upload-url replays and sends back its results', async () => {
    const run = await generatorPod([], 'r-gen');
    assert.equal(run.code, 0, run.stderr);
    await assertUploaded('r-gen');
  });

  it('a replica of a split load (--shard) sends back its results as that replica', async () => {
    // The one recorded inbound request is the first of the pass: replica 1/2's share.
    const run = await generatorPod(['--shard=1/2', `--start-at=${Date.now()}`], 'r-split');
    assert.equal(run.code, 0, run.stderr);
    await assertUploaded('r-split', 0);
    assert.equal(existsSync(generatorSummaryFile(home, 'r-split')), false, 'not stored as a lone generator');
    const bad = await generatorPod(['--shard=3/2'], 'r-bad-shard');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--shard: expected I\/N with 1 <= I <= N, such as 2\/4, got "3\/2"/);
    assert.equal((await fetch(`${base}/snapshots/${snapshotId}/manifest-2`)).status, 405);
  });

  it('a responder with --snapshot-url answers the recorded outbound call as a proxy', async () => {
    const child = spawn(
      process.execPath,
      [worker('responder'), `--snapshot=${snapshotId}`, `--snapshot-url=${base}`, '--port=0'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      const lines = createInterface({ input: child.stdout });
      const ready = await new Promise<{ port: number }>((resolve, reject) => {
        lines.once('line', (l) => resolve(JSON.parse(l) as { port: number }));
        child.once('exit', (c) => reject(new Error(`responder exited ${c}`)));
      });
      const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        request(
          {
            host: '127.0.0.1',
            port: ready.port,
            path: 'http://inventory.example/stock/1',
            headers: { host: 'inventory.example' },
          },
          (res) => {
            let body = '';
            res.on('data', (d: Buffer) => (body += d.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          },
        )
          .on('error', reject)
          .end();
      });
      assert.deepEqual(answer, { status: 200, body: '{"stock":3}' });
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  });
});
