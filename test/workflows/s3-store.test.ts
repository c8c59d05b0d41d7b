/**
 * Capture and replay with REPRISE_STORE=s3://...: a real Temporal dev server, the orchestrator
 * worker with the local runtime (real sidecar, forwarder, responder and generator processes,
 * which inherit the store settings), a real versitygw server, and real apps on loopback. Then
 * the faults: the S3 server gone during a capture, and during a replay's upload.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { isAlive } from '../../activities/local/processes.js';
import type { ReplayProgress, ReplayResult } from '../../src/config/replay.js';
import { replayDir, runDir } from '../../src/base/paths.js';
import { openStores } from '../../src/store/open.js';
import type { S3SnapshotStore } from '../../src/store/s3/store.js';
import type { CaptureProgress } from '../../src/config/capture.js';
import { captureWorkflow, progressQuery, stopSignal } from '../../workflows/capture.js';
import { startCountingApp, writeItemsSnapshot, type CountingApp } from '../helpers/replay-fixtures.js';
import { TestS3Server } from '../../tools/versitygw.js';
import { startHarness, TASK_QUEUE, workflowId, type WorkflowHarness } from './harness.js';
import { get, recordedPids, startLoopbackApp, waitFor, type LoopbackApp } from './loopback.js';

describe('capture and replay with the S3 store (versitygw)', () => {
  let s3: TestS3Server;
  let h: WorkflowHarness;
  let app: LoopbackApp;
  let counting: CountingApp;
  let stores: ReturnType<typeof openStores>;
  before(async () => {
    s3 = await TestS3Server.start();
    // Before the worker exists: it and every process it starts read the store from here.
    Object.assign(process.env, s3.env('team-a'), { REPRISE_S3_RETRY_SECONDS: '4' });
    h = await startHarness();
    stores = openStores(h.home);
    app = await startLoopbackApp();
    counting = await startCountingApp();
  });
  after(async () => {
    await app?.close();
    await counting?.close();
    await h?.close();
    await s3?.close();
  });

  const snapshots = () => stores.snapshots as S3SnapshotStore;

  async function startCapture(service: string) {
    const handle = await h.client.workflow.start(captureWorkflow, {
      taskQueue: TASK_QUEUE,
      workflowId: workflowId(service),
      args: [{ service, target: { appPort: app.port, inPort: 0, outPort: 0 } }],
    });
    const progress: CaptureProgress = await waitFor('the capture to run', async () => {
      const p = await handle.query(progressQuery);
      return p.phase === 'capturing' && p;
    });
    return { handle, progress };
  }

  /** Requests through the sidecar; every one must reach the app and come back. */
  async function traffic(inPort: number, from: number, count: number): Promise<void> {
    for (let i = from; i < from + count; i++) {
      assert.deepEqual(await get(inPort, `/hello?i=${i}`), {
        status: 200,
        body: JSON.stringify({ hello: `/hello?i=${i}` }),
      });
    }
  }

  it('captures into the bucket and replays from it; results and report land there too', async () => {
    const { handle, progress } = await startCapture('shop');
    await traffic(progress.inPort!, 0, 6);
    await waitFor('the pairs to arrive', async () => (await handle.query(progressQuery)).pairs >= 6);
    await handle.signal(stopSignal);
    const { snapshotId, pairs } = await handle.result();
    assert.equal(pairs, 6);

    const manifest = await snapshots().getManifest(snapshotId);
    assert.equal(manifest.counts.inbound, 6);
    assert.match(manifest.parts![0], /^traffic-[0-9a-f]+\.ndjson\.gz$/);
    assert.ok((await snapshots().list()).some((m) => m.id === snapshotId));
    assert.equal(existsSync(path.join(h.home, 'snapshots', snapshotId)), false, 'nothing on the local disk');

    const replay = await h.client.workflow.start('replayWorkflow', {
      taskQueue: TASK_QUEUE,
      workflowId: workflowId('replay-s3'),
      args: [{ snapshotId, target: { url: `http://127.0.0.1:${app.port}` }, load: { connections: 2 } }],
    });
    const result = (await replay.result()) as ReplayResult;
    assert.equal(result.verdict, 'Passed');
    assert.equal(result.requests, 6);
    const { objects } = await snapshots().objects.list(`replays/${result.replayId}/`);
    assert.deepEqual(objects.map((o) => path.basename(o.key)).sort(), [
      'generator-summary.json',
      'observed.ndjson.gz',
      'report.html',
      'report.json',
    ]);
  });

  it('with the S3 server away mid-capture, the app is served throughout and every pair is sealed', async () => {
    const { handle, progress } = await startCapture('blip');
    await traffic(progress.inPort!, 0, 5);
    await s3.stop();
    try {
      await traffic(progress.inPort!, 5, 10);
      await waitFor('the pairs to arrive', async () => (await handle.query(progressQuery)).pairs >= 15);
    } finally {
      await s3.resume();
    }
    await handle.signal(stopSignal);
    const result = await handle.result();
    assert.equal(result.pairs, 15);
    assert.equal((await snapshots().getManifest(result.snapshotId)).counts.pairs, 15);
  });

  it('with the S3 server gone through the seal, the app is served, the capture fails counting the pairs lost, and nothing lists', async () => {
    const { handle, progress } = await startCapture('outage');
    const pids = await recordedPids(h.home, handle.workflowId);
    await traffic(progress.inPort!, 0, 3);
    await s3.stop();
    try {
      await traffic(progress.inPort!, 3, 9);
      await waitFor('the pairs to arrive', async () => (await handle.query(progressQuery)).pairs >= 12);
      await handle.signal(stopSignal);
      const err = await handle.result().then(
        () => assert.fail('the capture cannot seal without its store'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof WorkflowFailedError, String(err));
      const why = String((err.cause as { cause?: Error })?.cause?.message ?? err.cause?.message);
      assert.match(
        why,
        new RegExp(`snapshot "${progress.snapshotId}" was not sealed, its 12 pairs are lost`),
      );
      assert.match(why, /s3:\/\/reprise\/team-a\/snapshots\//);
    } finally {
      await s3.resume();
    }
    assert.equal(await snapshots().exists(progress.snapshotId!), false);
    assert.ok(!(await snapshots().list()).some((m) => m.id === progress.snapshotId));
    assert.equal(await isAlive(pids.sidecar), false, 'the sidecar was stopped');
    assert.equal(await isAlive(pids.forwarder), false, 'the forwarder was stopped');
  });

  it("with the S3 server gone during a replay's upload, the verdict is Error naming it and teardown runs", async () => {
    const snapshotId = await writeItemsSnapshot(h.home, 40, stores.snapshots);
    const handle = await h.client.workflow.start('replayWorkflow', {
      taskQueue: TASK_QUEUE,
      workflowId: workflowId('replay-upload'),
      args: [{ snapshotId, target: { url: counting.url }, load: { rate: 10, connections: 2 } }],
    });
    await waitFor('the generator to send', async () => {
      const p = (await handle.query('progress')) as ReplayProgress;
      return p.phase === 'Testing' && p.sent >= 5;
    });
    const folder = path.join(runDir(h.home), handle.workflowId);
    const pids: number[] = [];
    for (const file of (await readdir(folder)).filter((f) => /^(responder|generator)\.json$/.test(f)))
      pids.push((JSON.parse(await readFile(path.join(folder, file), 'utf8')) as { pid: number }).pid);
    assert.equal(pids.length, 2, 'responder and generator are running');

    await s3.stop();
    try {
      // The analysis reads the recorded snapshot: the store is back by then.
      await waitFor('the analysis', async () => (await handle.query('phase')) === 'Analyzing', 120_000);
    } finally {
      await s3.resume();
    }
    const result = (await handle.result()) as ReplayResult;
    assert.equal(result.verdict, 'Error');
    const report = JSON.parse(
      await readFile(path.join(replayDir(h.home, result.replayId), 'report.json'), 'utf8'),
    );
    assert.match(
      JSON.stringify(report),
      /storing the observed responses in s3:\/\/reprise\/team-a\/replays\/ .*failed/,
    );
    for (const pid of pids) assert.equal(await isAlive(pid), false, `pid ${pid} is still running`);
    assert.equal(existsSync(folder), false, 'the run folder is removed');
    for (let i = 1; i <= 40; i++) assert.equal(counting.hits.get(`/items/${i}`), 1, `/items/${i} sent once`);
  });
});
