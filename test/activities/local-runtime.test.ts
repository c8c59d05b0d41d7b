/**
 * The local runtime against the real forwarder process (dist/workers/forwarder.js): pid files,
 * reuse across retries, idempotent stop, and a recorded pid that now names another program.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LocalCaptureRuntime } from '../../activities/local/index.js';
import { isAlive, type ProcessRecord } from '../../activities/local/processes.js';
import { RuntimeError, type CaptureRef, type RuntimeContext } from '../../activities/runtime.js';
import { FsSnapshotStore } from '../../src/store/fs-store.js';
import { makePair } from '../../tools/fixtures/pairs.js';

const ctx: RuntimeContext = { heartbeat: () => {}, signal: new AbortController().signal };

describe('local runtime (forwarder process)', () => {
  let home: string;
  let runtime: LocalCaptureRuntime;
  before(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'reprise-local-'));
    runtime = new LocalCaptureRuntime({ home });
  });
  after(async () => {
    await runtime.stopAll();
    await rm(home, { recursive: true, force: true });
  });

  const record = async (captureId: string): Promise<ProcessRecord> =>
    JSON.parse(
      await readFile(path.join(runtime.captureDir(captureId), 'forwarder.json'), 'utf8'),
    ) as ProcessRecord;

  const open = (ref: CaptureRef) => runtime.openRecording({ ...ref, service: 'orders' }, ctx);

  it('starts one forwarder per capture, records it, and reuses it when the step is retried', async () => {
    const ref = { captureId: 'cap-reuse', snapshotId: 'snap-reuse' };
    const { forwarderUrl } = await open(ref);
    const first = await record(ref.captureId);
    assert.equal(forwarderUrl, `http://127.0.0.1:${first.ready.port}`);
    assert.ok(await isAlive(first.pid));
    // It runs with the forwarder's V8 flags (src/base/node-options.ts), on top of the caller's NODE_OPTIONS.
    const environ = (await readFile(`/proc/${first.pid}/environ`, 'utf8')).split('\0');
    const nodeOptions = environ.find((e) => e.startsWith('NODE_OPTIONS='));
    assert.ok(nodeOptions?.includes('--max-semi-space-size=4'), `forwarder env: ${nodeOptions}`);

    assert.deepEqual(await open(ref), { forwarderUrl });
    assert.equal((await record(ref.captureId)).pid, first.pid, 'a retry must not start a second forwarder');
    await runtime.teardown(ref, ctx);
  });

  it('counts what the forwarder stored, seals into the store, and tears down idempotently', async () => {
    const ref = { captureId: 'cap-seal', snapshotId: 'snap-seal' };
    const { forwarderUrl } = await open(ref);
    const res = await fetch(`${forwarderUrl}/v1/pairs`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson', 'x-reprise-service': 'orders' },
      body: [makePair(), makePair({ direction: 'outbound' })].map((p) => JSON.stringify(p)).join('\n') + '\n',
    });
    assert.equal(res.status, 202);
    const progress = await runtime.captureProgress(ref, ctx);
    assert.deepEqual({ pairs: progress.pairs, inbound: progress.inbound }, { pairs: 2, inbound: 1 });

    const sealed = await runtime.sealSnapshot(ref, ctx);
    assert.equal(sealed.pairs, 2);
    assert.equal(sealed.outbound, 1);
    assert.deepEqual(await runtime.sealSnapshot(ref, ctx), sealed, 'sealing twice returns the same counts');
    assert.equal((await new FsSnapshotStore(home).getManifest('snap-seal')).counts.pairs, 2);
    await runtime.abortRecording(ref, ctx); // already sealed: nothing to abort, not an error

    const { pid } = await record(ref.captureId);
    await runtime.teardown(ref, ctx);
    assert.equal(await isAlive(pid), false);
    assert.equal(existsSync(runtime.captureDir(ref.captureId)), false);
    await runtime.teardown(ref, ctx);
    await runtime.disableCapture(ref, ctx);
  });

  it('abort discards the recording: the snapshot never appears', async () => {
    const ref = { captureId: 'cap-abort', snapshotId: 'snap-abort' };
    await open(ref);
    await runtime.abortRecording(ref, ctx);
    await runtime.abortRecording(ref, ctx);
    await runtime.teardown(ref, ctx);
    assert.equal(await new FsSnapshotStore(home).exists('snap-abort'), false);
  });

  it('a recorded pid that now runs another program is neither reused nor killed', async () => {
    const ref = { captureId: 'cap-stale', snapshotId: 'snap-stale' };
    await open(ref);
    const stale = await record(ref.captureId);
    await runtime.teardown(ref, ctx);
    // Pretend the pid was reused: it names this test process now.
    await open(ref);
    const file = path.join(runtime.captureDir(ref.captureId), 'forwarder.json');
    const current = await record(ref.captureId);
    await writeFile(file, JSON.stringify({ ...current, pid: process.pid }));
    await open({ ...ref, snapshotId: 'snap-stale-2' });
    const fresh = await record(ref.captureId);
    assert.notEqual(fresh.pid, process.pid);
    assert.notEqual(fresh.pid, stale.pid);
    await runtime.teardown(ref, ctx);
    assert.equal(await isAlive(fresh.pid), false);
    // The real forwarder whose record was overwritten is still running: end it here.
    process.kill(current.pid, 'SIGTERM');
  });

  it('after the forwarder died, sealing reports the recording lost (not retryable)', async () => {
    const ref = { captureId: 'cap-lost', snapshotId: 'snap-lost' };
    await open(ref);
    const { pid } = await record(ref.captureId);
    process.kill(pid, 'SIGKILL');
    while (await isAlive(pid)) await new Promise((r) => setTimeout(r, 20));
    await assert.rejects(
      runtime.sealSnapshot(ref, ctx),
      (err: unknown) => err instanceof RuntimeError && err.type === 'RecordingLost' && !err.retryable,
    );
    await runtime.abortRecording(ref, ctx);
    await runtime.teardown(ref, ctx);
  });
});
