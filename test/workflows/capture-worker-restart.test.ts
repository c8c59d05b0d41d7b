/**
 * A capture survives its worker: the orchestrator runs as its own process (as in production),
 * is killed with SIGKILL mid-capture, and a new one finishes the capture with the same
 * sidecar and forwarder (found through their pid files) and every pair recorded.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { LocalCaptureRuntime } from '../../activities/local/index.js';
import { FsSnapshotStore } from '../../src/store/fs-store.js';
import { startDevServer, type DevServer } from '../../src/temporal/dev-server.js';
import { TASK_QUEUE } from '../../src/temporal/names.js';
import { captureWorkflow, progressQuery, stopSignal } from '../../workflows/capture.js';
import { workflowId } from './harness.js';
import { startOrchestrator } from '../helpers/orchestrator-process.js';
import { get, pidAlive, recordedPids, startLoopbackApp, waitFor, type LoopbackApp } from './loopback.js';

describe('captureWorkflow across a worker crash', () => {
  let server: DevServer;
  let client: Client;
  let connection: Connection;
  let home: string;
  let app: LoopbackApp;
  const workers: ChildProcess[] = [];
  const env = () => ({ TEMPORAL_ADDRESS: server.address, REPRISE_HOME: home });

  before(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'reprise-restart-'));
    server = await startDevServer({ headless: true });
    connection = await Connection.connect({ address: server.address });
    client = new Client({ connection });
    app = await startLoopbackApp();
  });
  after(async () => {
    for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
    // After a failure, end what the killed workers' captures left running.
    const local = new LocalCaptureRuntime({ home });
    const ctx = { heartbeat: () => {}, signal: new AbortController().signal };
    for (const captureId of await readdir(path.join(home, 'run')).catch(() => [])) {
      await local.teardown({ captureId, snapshotId: '' }, ctx);
    }
    await app?.close();
    await connection?.close();
    await server?.stop();
    await rm(home, { recursive: true, force: true });
  });

  it('completes with the same processes after the worker is killed and replaced', async () => {
    let t = Date.now();
    workers.push(await startOrchestrator(env()));
    console.log(`# orchestrator process ready in ${Date.now() - t} ms`);

    const handle = await client.workflow.start(captureWorkflow, {
      taskQueue: TASK_QUEUE,
      workflowId: workflowId('restart'),
      args: [{ service: 'restart', target: { appPort: app.port, inPort: 0, outPort: -1 } }],
    });
    const progress = await waitFor('the capture to run', async () => {
      const p = await handle.query(progressQuery);
      return p.phase === 'capturing' && p;
    });
    for (let i = 0; i < 3; i++) await get(progress.inPort!, `/before?i=${i}`);
    const pids = await recordedPids(home, handle.workflowId);

    const first = workers[0];
    first.kill('SIGKILL');
    await once(first, 'exit');
    // The data plane does not need the worker: traffic still flows and is recorded.
    for (let i = 0; i < 2; i++) assert.equal((await get(progress.inPort!, `/during?i=${i}`)).status, 200);
    assert.ok((await pidAlive(pids.sidecar)) && (await pidAlive(pids.forwarder)));

    t = Date.now();
    workers.push(await startOrchestrator(env()));
    console.log(`# replacement orchestrator ready in ${Date.now() - t} ms`);
    await handle.signal(stopSignal);
    const result = await handle.result();
    assert.equal(result.pairs, 5);
    assert.equal(result.inbound, 5);
    assert.deepEqual(await recordedPids(home, handle.workflowId).catch(() => 'removed'), 'removed');
    assert.equal(await pidAlive(pids.sidecar), false);
    assert.equal(await pidAlive(pids.forwarder), false);
    assert.equal((await new FsSnapshotStore(home).getManifest(result.snapshotId)).counts.pairs, 5);

    // A worker process stops cleanly on SIGTERM.
    const second = workers[1];
    second.kill('SIGTERM');
    const [code] = (await once(second, 'exit')) as [number | null];
    assert.equal(code, 0);
  });
});
