/**
 * Many forwarders, one snapshot: real forwarder processes on loopback sharing one recording in a
 * real S3 server (versitygw). Pairs spread over them are read back as one stream in capture
 * order; a replica killed with SIGKILL mid-capture loses only what it had not flushed, and the
 * manifest names it and counts that loss; one started later joins the open recording.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ForwarderReplicas } from '../../src/forwarder/group.js';
import type { RRPair } from '../../src/model/traffic.js';
import { textBody } from '../../tools/fixtures/pairs.js';
import { openSnapshotStore } from '../../src/store/open.js';
import type { S3SnapshotStore } from '../../src/store/s3/store.js';
import { readWriterRecords, type WriterRecord } from '../../src/store/s3/writer-record.js';
import { TestS3Server } from '../../tools/versitygw.js';
import { postPairs, startForwarderProcess, type ForwarderProcess } from '../helpers/forwarder-processes.js';
import { pair } from '../store/pairs.js';
import { runCli } from '../helpers/cli.js';
import { postTap, tapBatch } from '../helpers/tap-batch.js';

const send = (url: string, pairs: RRPair[]) => postPairs(url, pairs, 'orders');

const signal = new AbortController().signal;

async function waitFor<T>(what: string, check: () => Promise<T | undefined | false>): Promise<T> {
  for (let i = 0; i < 300; i++) {
    const v = await check();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('forwarder replicas sharing one recording (S3 store)', () => {
  let s3: TestS3Server;
  let home: string;
  const started: ForwarderProcess[] = [];
  let prefix = 0;
  before(async () => {
    s3 = await TestS3Server.start();
    home = await mkdtemp(path.join(tmpdir(), 'reprise-replicas-'));
  });
  after(async () => {
    await Promise.all(started.map((f) => f.kill()));
    await s3?.close();
    await rm(home, { recursive: true, force: true });
  });

  async function setup(envs: Record<string, string>[]) {
    const env = s3.env(`replicas-${++prefix}`);
    const forwarders = await Promise.all(envs.map((e) => startForwarderProcess(home, { ...env, ...e })));
    started.push(...forwarders);
    const store = openSnapshotStore(home, env) as S3SnapshotStore;
    const group = new ForwarderReplicas(async () => forwarders.map((f) => f.url), store);
    return { forwarders, store, group, env };
  }

  it('pairs spread over three forwarders are sealed into one snapshot, read back in capture order', async () => {
    // Small segments: each forwarder flushes several parts while the pairs arrive.
    const { forwarders, store, group } = await setup(
      [1, 2, 3].map(() => ({ REPRISE_REPLICA_FLUSH_SECONDS: '3600', REPRISE_REPLICA_FLUSH_BYTES: '1500' })),
    );
    await group.open({ snapshotId: 'snap-spread', service: 'orders' }, signal);
    const pairs = Array.from({ length: 90 }, (_, i) => pair(i));
    for (let i = 0; i < pairs.length; i += 9) {
      // Pair k goes to forwarder k mod 3, three at a time: every replica holds interleaved times.
      await Promise.all(
        forwarders.map((f, r) =>
          send(
            f.url,
            pairs.slice(i, i + 9).filter((_, k) => (i + k) % 3 === r),
          ),
        ),
      );
    }
    const manifest = await group.seal('snap-spread', signal);
    assert.equal(manifest.counts.pairs, 90);
    assert.equal(manifest.counts.inbound, 90);
    assert.equal(manifest.counts.lost, undefined);
    assert.equal(manifest.writers?.length, 3);
    for (const w of manifest.writers!) {
      assert.equal(w.state, 'flushed', w.writer);
      assert.equal(w.pairs, 30, w.writer);
      assert.ok(w.parts.length > 1, `${w.writer} flushed ${w.parts.length} part(s)`);
    }
    assert.deepEqual(manifest.window, { start: pairs[0].startedAt, end: pairs[89].startedAt });
    const endpoints = manifest.endpoints.reduce((n, e) => n + e.count, 0);
    assert.equal(endpoints + manifest.otherEndpoints, 90);

    const read: string[] = [];
    for await (const p of store.readPairs('snap-spread')) read.push(p.id);
    assert.deepEqual(
      read,
      pairs.map((p) => p.id),
    );
    assert.deepEqual(
      (await store.list()).map((m) => m.id),
      ['snap-spread'],
    );
    // A retried seal returns the same manifest.
    assert.deepEqual(await group.seal('snap-spread', signal), await store.getManifest('snap-spread'));
  });

  it('tap batches, decoded on the ingest threads of two replicas, are sealed into one snapshot', async () => {
    const { forwarders, store, group } = await setup(
      [1, 2].map(() => ({ REPRISE_REPLICA_FLUSH_SECONDS: '3600', REPRISE_REPLICA_FLUSH_BYTES: '4000' })),
    );
    await group.open({ snapshotId: 'snap-tap', service: 'shop' }, signal);
    const sent: string[] = [];
    for (const [r, f] of forwarders.entries()) {
      for (const seq of [1, 2, 3]) {
        const paths = Array.from({ length: 20 }, (_, i) => `/r${r}/b${seq}/${i}`);
        const answer = await postTap(f.url, seq, tapBatch(paths), `sc-${r}`);
        assert.equal(answer.body.accepted, 20, `replica ${r} batch ${seq}`);
        sent.push(...paths);
      }
    }
    const manifest = await group.seal('snap-tap', signal);
    assert.equal(manifest.counts.pairs, 120);
    for (const w of manifest.writers!) {
      assert.equal(w.pairs, 60, w.writer);
      assert.ok(w.parts.length > 1, `${w.writer} flushed ${w.parts.length} part(s)`);
    }
    const read: string[] = [];
    for await (const p of store.readPairs('snap-tap')) read.push(p.request.path);
    assert.deepEqual(read.sort(), sent.sort());
  });

  it('a forwarder killed mid-capture loses only its unflushed pairs; the manifest names it and counts them', async () => {
    const often = { REPRISE_REPLICA_FLUSH_SECONDS: '0.2' };
    // The victim flushes only past 4000 bytes: one big pair is stored, the small ones after it wait.
    const victimEnv = { REPRISE_REPLICA_FLUSH_SECONDS: '3600', REPRISE_REPLICA_FLUSH_BYTES: '4000' };
    const { forwarders, store, group, env } = await setup([often, often, victimEnv]);
    const [a, b, victim] = forwarders;
    await group.open({ snapshotId: 'snap-crash', service: 'orders' }, signal);
    const records = () => readWriterRecords(store.objects, 'snap-crash');
    const victimRecord = async (): Promise<WriterRecord | undefined> => {
      const all = await records();
      // The other two flush every 0.2 s: the victim is the one without a part yet, or with the big pair.
      return all.find((r) => r.flushed.counts.pairs === 1 || (r.parts.length === 0 && r.seen.pairs > 0));
    };

    await send(a.url, [pair(0), pair(3)]);
    await send(b.url, [pair(1), pair(4)]);
    await send(victim.url, [
      pair(2, { response: { status: 200, headers: [], body: textBody('x'.repeat(5000)) } }),
    ]);
    const flushedBig = await waitFor('the victim to flush its big pair', async () => {
      const r = await victimRecord();
      return r && r.flushed.counts.pairs === 1 && r.parts.length === 1 && r;
    });
    await send(
      victim.url,
      [5, 8, 11, 14, 17].map((i) => pair(i)),
    );
    await waitFor('the victim to note six pairs taken', async () => {
      const r = (await records()).find((x) => x.writer === flushedBig.writer);
      return r && r.seen.pairs === 6;
    });
    await victim.kill();

    await send(a.url, [pair(6), pair(9)]);
    await send(b.url, [pair(7), pair(10)]);
    const manifest = await group.seal('snap-crash', signal);

    const lost = manifest.writers!.find((w) => w.writer === flushedBig.writer)!;
    assert.equal(lost.state, 'lost');
    assert.equal(lost.pairs, 1);
    assert.equal(lost.lost?.pairs, 5);
    assert.match(lost.lost!.reason, new RegExp(victim.url.replace(/[.:/]/g, '.')));
    assert.deepEqual(
      manifest.writers!.filter((w) => w !== lost).map((w) => [w.state, w.pairs]),
      [
        ['flushed', 4],
        ['flushed', 4],
      ],
    );
    assert.equal(manifest.counts.pairs, 9);
    assert.equal(manifest.counts.lost, 5);

    const read: string[] = [];
    for await (const p of store.readPairs('snap-crash')) read.push(p.id);
    assert.deepEqual(
      read,
      [0, 1, 2, 3, 4, 6, 7, 9, 10].map((i) => `p-${i}`),
    );

    // `snapshot show` names each writer with its counts, and the one that lost pairs.
    const show = await runCli(['snapshot', 'show', 'snap-crash'], { ...env, REPRISE_HOME: home });
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /lost {7}5 pairs with 1 writer\(s\) that did not answer the seal/);
    const row = show.stdout.split('\n').find((l) => l.startsWith(`${lost.writer} `));
    assert.deepEqual(
      row?.split(/\s{2,}/).filter((c) => !/B$/.test(c)),
      [lost.writer, 'lost', '1', '1', '0', '1', '5'],
    );
    assert.match(show.stdout, new RegExp(`${lost.writer}: did not answer the seal`));
  });

  it('a forwarder stopped with SIGTERM mid-capture flushes its share first: nothing is lost', async () => {
    const never = { REPRISE_REPLICA_FLUSH_SECONDS: '3600' };
    const { forwarders, group } = await setup([never, never]);
    await group.open({ snapshotId: 'snap-rolling', service: 'orders' }, signal);
    await send(forwarders[0].url, [pair(0), pair(2)]);
    await send(forwarders[1].url, [pair(1), pair(3), pair(4)]);
    await forwarders[1].stop(); // a rolling update takes this pod away
    await send(forwarders[0].url, [pair(5)]);
    const manifest = await group.seal('snap-rolling', signal);
    assert.equal(manifest.counts.pairs, 6);
    assert.equal(manifest.counts.lost, undefined);
    assert.deepEqual(manifest.writers!.map((w) => [w.state, w.pairs]).sort(), [
      ['flushed', 3],
      ['flushed', 3],
    ]);
  });

  it('a forwarder started after the recording was opened (a replacement pod) joins it at the next progress poll', async () => {
    const { forwarders, group, env, store } = await setup([{}]);
    await group.open({ snapshotId: 'snap-joined', service: 'orders', meta: { by: 'test' } }, signal);
    await send(forwarders[0].url, [pair(0), pair(1)]);
    const late = await startForwarderProcess(home, env);
    started.push(late);
    forwarders.push(late); // the Service's endpoints now list it
    assert.equal((await fetch(`${late.url}/v1/recordings/snap-joined`)).status, 404);
    assert.equal((await group.status('snap-joined', signal)).pairs, 2);
    await send(late.url, [pair(2), pair(3)]);
    assert.equal((await group.status('snap-joined', signal)).pairs, 4);
    // Flushed (a SIGTERM, or the seal's first step), the share is closed on that writer for good:
    // opening it again (a later poll) is refused instead of restarting its record.
    const flushed = await fetch(`${late.url}/v1/recordings/snap-joined/flush`, { method: 'POST' });
    assert.equal(flushed.status, 200, await flushed.text());
    const again = await fetch(`${late.url}/v1/recordings`, {
      method: 'POST',
      body: JSON.stringify({ snapshotId: 'snap-joined', service: 'orders', shared: true }),
    });
    assert.equal(again.status, 409, await again.text());
    const manifest = await group.seal('snap-joined', signal);
    assert.deepEqual(
      manifest.writers!.map((w) => [w.state, w.pairs]),
      [
        ['flushed', 2],
        ['flushed', 2],
      ],
    );
    assert.deepEqual(manifest.meta, { by: 'test' });
    const read: string[] = [];
    for await (const p of store.readPairs('snap-joined')) read.push(p.id);
    assert.deepEqual(read, ['p-0', 'p-1', 'p-2', 'p-3']);
  });

  it('a shared recording is refused by a forwarder on the filesystem store, naming the S3 store', async () => {
    const f = await startForwarderProcess(home, {});
    started.push(f);
    const res = await fetch(`${f.url}/v1/recordings`, {
      method: 'POST',
      body: JSON.stringify({ snapshotId: 'snap-fs', service: 'orders', shared: true }),
    });
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as { error: string }).error, /shared: .*REPRISE_STORE=s3:\/\//);
  });
});
