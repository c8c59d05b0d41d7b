/**
 * captureWorkflow sealing over several forwarders: a real Temporal dev server, the orchestrator
 * worker with the local runtime running three forwarder processes per capture on a real S3
 * server (versitygw). The sidecar ships to the first; pairs are posted straight to the other two
 * (as other pods' sidecars would); one of them is killed with SIGKILL before the seal.
 */
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LocalCaptureRuntime } from '../../activities/local/index.js';
import type { CaptureProgress } from '../../src/config/capture.js';
import type { RRPair } from '../../src/model/traffic.js';
import { openSnapshotStore } from '../../src/store/open.js';
import type { S3SnapshotStore } from '../../src/store/s3/store.js';
import { readWriterRecords } from '../../src/store/s3/writer-record.js';
import { makePair } from '../../tools/fixtures/pairs.js';
import { TestS3Server } from '../../tools/versitygw.js';
import { captureWorkflow, progressQuery, stopSignal } from '../../workflows/capture.js';
import { startHarness, TASK_QUEUE, workflowId, type WorkflowHarness } from './harness.js';
import { get, processRecord, startLoopbackApp, waitFor, type LoopbackApp } from './loopback.js';
import { postPairs } from '../helpers/forwarder-processes.js';

const send = (url: string, pairs: RRPair[]) => postPairs(url, pairs, 'shop');

const directPair = (id: string) =>
  makePair({ id, service: 'shop', path: `/direct/${id}`, startedAt: new Date().toISOString() });

describe('captureWorkflow over three forwarders (S3 store)', () => {
  let s3: TestS3Server;
  let h: WorkflowHarness;
  let runtime: LocalCaptureRuntime;
  let app: LoopbackApp;
  before(async () => {
    s3 = await TestS3Server.start();
    // Before the worker: it and the forwarders it starts read the store from here. Shares are
    // flushed only at the seal, so the killed forwarder's pairs are all unflushed.
    Object.assign(process.env, s3.env('replicas'), { REPRISE_REPLICA_FLUSH_SECONDS: '3600' });
    const home = await mkdtemp(path.join(tmpdir(), 'reprise-wf-replicas-'));
    runtime = new LocalCaptureRuntime({ home, forwarders: 3 });
    h = await startHarness({ home, runtime });
    app = await startLoopbackApp();
  });
  after(async () => {
    await app?.close();
    await h?.close();
    await runtime?.stopAll();
    await s3?.close();
  });

  it('seals one snapshot over every forwarder; the one killed is named with the pairs it lost', async () => {
    const handle = await h.client.workflow.start(captureWorkflow, {
      taskQueue: TASK_QUEUE,
      workflowId: workflowId('replicas'),
      args: [{ service: 'shop', target: { appPort: app.port, inPort: 0, outPort: 0 } }],
    });
    const progress: CaptureProgress = await waitFor('the capture to run', async () => {
      const p = await handle.query(progressQuery);
      return p.phase === 'capturing' && p;
    });
    const urls = await runtime.forwarderUrls(handle.workflowId);
    assert.equal(urls.length, 3);

    for (let i = 0; i < 6; i++) assert.equal((await get(progress.inPort!, `/hello?i=${i}`)).status, 200);
    await send(urls[1], [directPair('d-1'), directPair('d-2')]);
    await send(urls[2], [directPair('k-1'), directPair('k-2'), directPair('k-3')]);
    await waitFor('every pair counted', async () => (await handle.query(progressQuery)).pairs >= 11);

    // The third forwarder dies once its record notes the three pairs it took (none flushed).
    const store = openSnapshotStore(h.home) as S3SnapshotStore;
    await waitFor('the third forwarder to note its pairs', async () =>
      (await readWriterRecords(store.objects, progress.snapshotId!)).some((r) => r.seen.pairs === 3),
    );
    const victim = await processRecord(h.home, handle.workflowId, 'forwarder-2');
    process.kill(victim.pid, 'SIGKILL');

    await handle.signal(stopSignal);
    const result = await handle.result();
    assert.equal(result.pairs, 8);
    assert.equal(result.dropped, 3, 'the lost pairs count as dropped');

    const manifest = await store.getManifest(result.snapshotId);
    assert.equal(manifest.counts.lost, 3);
    assert.deepEqual(manifest.writers!.map((w) => [w.state, w.pairs, w.lost?.pairs ?? 0]).sort(), [
      ['flushed', 2, 0],
      ['flushed', 6, 0],
      ['lost', 0, 3],
    ]);
    const read: RRPair[] = [];
    for await (const p of store.readPairs(result.snapshotId)) read.push(p);
    assert.equal(read.length, 8);
    assert.deepEqual(
      read.filter((p) => p.id.startsWith('d-')).map((p) => p.id),
      ['d-1', 'd-2'],
    );
    assert.equal(read.filter((p) => p.request.path === '/hello').length, 6);
    const times = read.map((p) => p.startedAt);
    assert.deepEqual(times, [...times].sort(), 'read in capture order');
  });
});
