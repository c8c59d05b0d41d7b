/**
 * captureWorkflow end to end: a real Temporal dev server, the orchestrator worker with the
 * local runtime, the real forwarder and sidecar processes, and a real app on loopback.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure, CancelledFailure, RetryState } from '@temporalio/common';
import type { RRPair } from '../../src/model/traffic.js';
import { FsSnapshotStore } from '../../src/store/fs-store.js';
import type { CaptureProgress } from '../../src/config/capture.js';
import { captureWorkflow, progressQuery, stopSignal } from '../../workflows/capture.js';
import { startHarness, TASK_QUEUE, workflowId, type WorkflowHarness } from './harness.js';
import {
  accepts,
  get,
  pidAlive,
  processRecord,
  recordedPids,
  startLoopbackApp,
  waitFor,
  type LoopbackApp,
} from './loopback.js';

describe('captureWorkflow with local processes', () => {
  let h: WorkflowHarness;
  let app: LoopbackApp;
  before(async () => {
    h = await startHarness();
    console.log(`# server + worker started in ${h.startupMs} ms`);
    app = await startLoopbackApp();
  });
  after(async () => {
    await app?.close();
    await h?.close();
  });

  const startCapture = (service: string) =>
    h.client.workflow.start(captureWorkflow, {
      taskQueue: TASK_QUEUE,
      workflowId: workflowId(service),
      args: [{ service, target: { appPort: app.port, inPort: 0, outPort: 0 } }],
    });

  const capturing = (handle: Awaited<ReturnType<typeof startCapture>>) =>
    waitFor('the capture to run', async () => {
      const p = await handle.query(progressQuery);
      return p.phase === 'capturing' && p;
    });

  it('records real traffic until stopped, and seals a snapshot with every pair', async () => {
    const handle = await startCapture('shop');
    const progress: CaptureProgress = await capturing(handle);
    assert.ok(progress.inPort! > 0 && progress.outPort! > 0, 'ephemeral ports resolved');
    app.proxyPort = progress.outPort!;

    for (let i = 0; i < 4; i++) {
      const res = await get(progress.inPort!, `/hello?i=${i}`);
      assert.deepEqual(res, { status: 200, body: JSON.stringify({ hello: `/hello?i=${i}` }) });
    }
    assert.deepEqual(await get(progress.inPort!, '/checkout'), { status: 200, body: '{"price":42}' });

    // 5 inbound + 1 outbound; the query shows them as the workflow polls.
    await waitFor('progress to count the pairs', async () => (await handle.query(progressQuery)).pairs >= 6);
    const pids = await recordedPids(h.home, handle.workflowId);

    await handle.signal(stopSignal);
    const result = await handle.result();
    assert.equal(result.pairs, 6);
    assert.equal(result.inbound, 5);
    assert.equal(result.outbound, 1);
    assert.equal(result.dropped, 0);
    assert.equal(result.workflowId, handle.workflowId);
    assert.equal((await handle.query(progressQuery)).phase, 'done');

    const store = new FsSnapshotStore(h.home);
    const manifest = await store.getManifest(result.snapshotId);
    assert.equal(manifest.service, 'shop');
    assert.equal(manifest.counts.pairs, 6);
    assert.equal(manifest.meta.captureWorkflowId, handle.workflowId);
    const pairs: RRPair[] = [];
    for await (const pair of store.readPairs(result.snapshotId)) pairs.push(pair);
    assert.deepEqual(
      pairs
        .filter((p) => p.direction === 'inbound')
        .map((p) => p.request.path)
        .sort(),
      ['/checkout', '/hello', '/hello', '/hello', '/hello'],
    );
    assert.equal(pairs.find((p) => p.direction === 'outbound')?.request.path, '/price');

    assert.equal(await pidAlive(pids.sidecar), false);
    assert.equal(await pidAlive(pids.forwarder), false);
    assert.equal(await accepts(progress.inPort!), false);
  });

  it('cancelled, it leaves no process, no open port and no snapshot behind', async () => {
    const handle = await startCapture('cancelled');
    const progress = await capturing(handle);
    await get(progress.inPort!, '/hello?before-cancel');
    const pids = await recordedPids(h.home, handle.workflowId);
    assert.ok((await pidAlive(pids.sidecar)) && (await pidAlive(pids.forwarder)));

    await handle.cancel();
    const err = await handle.result().catch((e: unknown) => e);
    assert.ok(err instanceof WorkflowFailedError && err.cause instanceof CancelledFailure, String(err));
    assert.equal((await handle.describe()).status.name, 'CANCELLED');

    assert.equal(await pidAlive(pids.sidecar), false, 'sidecar stopped');
    assert.equal(await pidAlive(pids.forwarder), false, 'forwarder stopped');
    assert.equal(await accepts(progress.inPort!), false, 'inPort closed');
    const store = new FsSnapshotStore(h.home);
    assert.equal(await store.exists(progress.snapshotId!), false);
    assert.deepEqual(
      (await store.list()).filter((m) => m.service === 'cancelled'),
      [],
    );
  });

  it('puts back a sidecar that died mid-capture, and records what comes after', async () => {
    const handle = await startCapture('resilient');
    const before = await capturing(handle);
    // Distinct paths: the pair recorded after the kill must be told from the one before it.
    await get(before.inPort!, '/hello/before-kill');
    const { sidecar } = await recordedPids(h.home, handle.workflowId);
    process.kill(sidecar, 'SIGKILL');

    // The next progress poll notices and enables capture again (on a new ephemeral port here).
    const after = await waitFor('a new sidecar, ready', async () => {
      const record = await processRecord(h.home, handle.workflowId, 'sidecar').catch(() => undefined);
      const p = await handle.query(progressQuery);
      return record && record.pid !== sidecar && p.inPort === record.ready.inPort && p;
    });
    assert.equal((await get(after.inPort!, '/hello/after-kill')).status, 200);
    await handle.signal(stopSignal);
    const result = await handle.result();
    // The first pair may have died in the killed sidecar's buffer; the second must be there,
    // recorded whole by the new sidecar.
    const pairs: RRPair[] = [];
    for await (const p of new FsSnapshotStore(h.home).readPairs(result.snapshotId)) pairs.push(p);
    const paths = pairs.map((p) => p.request.path);
    const second = pairs.find((p) => p.request.path === '/hello/after-kill');
    assert.ok(second, `recorded ${JSON.stringify(paths)}`);
    assert.equal(second.response?.status, 200);
    assert.equal(second.response?.body?.data, JSON.stringify({ hello: '/hello/after-kill' }));
    assert.ok(
      paths.every((p) => p === '/hello/before-kill' || p === '/hello/after-kill'),
      String(paths),
    );
    assert.equal(result.pairs, pairs.length);
  });

  it('fails at once, and tears down, when the forwarder dies and the recording is lost', async () => {
    const handle = await startCapture('lost');
    const progress = await capturing(handle);
    const pids = await recordedPids(h.home, handle.workflowId);
    process.kill(pids.forwarder, 'SIGKILL');

    const err = await handle.result().catch((e: unknown) => e);
    assert.ok(err instanceof WorkflowFailedError, String(err));
    assert.match(String((err.cause?.cause as Error | undefined)?.message), /recording .* is lost/);
    assert.equal((await handle.query(progressQuery)).phase, 'failed');
    assert.equal(await pidAlive(pids.sidecar), false);
    assert.equal(await accepts(progress.inPort!), false);
    assert.equal(await new FsSnapshotStore(h.home).exists(progress.snapshotId!), false);
  });

  it('fails at once, without retrying, when the inPort is taken, and leaves nothing running', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as AddressInfo).port;
    try {
      const handle = await h.client.workflow.start(captureWorkflow, {
        taskQueue: TASK_QUEUE,
        workflowId: workflowId('taken'),
        args: [{ service: 'taken', target: { appPort: app.port, inPort: port, outPort: 0 } }],
      });
      const err = await handle.result().catch((e: unknown) => e);
      assert.ok(err instanceof WorkflowFailedError, String(err));
      const cause = err.cause?.cause;
      assert.ok(cause instanceof ApplicationFailure, String(cause));
      assert.equal(cause.type, 'PortInUse');
      assert.match(cause.message, new RegExp(`EADDRINUSE.*${port}`));
      assert.ok(err.cause instanceof ActivityFailure);
      assert.equal(err.cause.retryState, RetryState.NON_RETRYABLE_FAILURE);
      assert.equal(existsSync(path.join(h.home, 'run', handle.workflowId)), false, 'run folder removed');
    } finally {
      taken.close();
    }
  });
});
