/**
 * HTTP/2 capture end to end: a sidecar in this process shipping its taps to the real forwarder
 * (default DLP rules, gRPC reflection on, a filesystem store); one recording per capture, sealed
 * after the sidecar has drained, its stored pairs read back as a replay would read them.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startForwarder, type Forwarder } from '../../src/forwarder/index.js';
import { RRPair } from '../../src/model/traffic.js';
import { FsSnapshotStore } from '../../src/store/fs-store.js';
import { type SidecarOptions, startSidecar } from '../../sidecar/index.js';

export interface CaptureRig {
  dir: string;
  store: FsSnapshotStore;
  /** Runs `client` against a fresh sidecar; returns its result and the pairs stored for it. */
  capture<T>(
    opts: SidecarOptions,
    client: (ports: { inPort: number; outPort: number }) => Promise<T>,
  ): Promise<{ out: T; pairs: RRPair[]; stats: { pairs: number; dropped: number } }>;
  close(): Promise<void>;
}

let seq = 0;

export async function captureRig(): Promise<CaptureRig> {
  const dir = await mkdtemp(path.join(tmpdir(), 'reprise-h2-capture-'));
  const store = new FsSnapshotStore(path.join(dir, 'home'));
  const fwd: Forwarder = await startForwarder({ port: 0, home: path.join(dir, 'home'), store });
  const url = `http://127.0.0.1:${fwd.port}`;
  const post = async (p: string, body?: unknown) => {
    const res = await fetch(url + p, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    assert.ok(res.ok, `${p}: ${res.status} ${await res.text()}`);
  };
  return {
    dir,
    store,
    async capture(opts, client) {
      const snapshotId = `h2-${process.pid}-${++seq}`;
      await post('/v1/recordings', { snapshotId, service: 'svc' });
      const sc = await startSidecar({
        inPort: 0,
        outPort: -1,
        adminPort: -1,
        flushMs: 20,
        forwarder: url,
        service: 'svc',
        ...opts,
      });
      const ran = await client({ inPort: sc.inPort, outPort: sc.outPort }).then(
        (out) => ({ out }),
        (err: unknown) => ({ err }),
      );
      const stats = await sc.close();
      if ('err' in ran) throw ran.err;
      const { out } = ran;
      await post(`/v1/recordings/${snapshotId}/seal`);
      const pairs: RRPair[] = [];
      for await (const p of store.readPairs(snapshotId)) pairs.push(RRPair.parse(p));
      return { out, pairs, stats };
    },
    async close() {
      await fwd.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The pairs of one gRPC method, in the order their calls started. */
export const callsOf = (pairs: RRPair[], method: string) =>
  pairs
    .filter((p) => p.grpc && `${p.grpc.service}/${p.grpc.method}` === method)
    .sort((a, b) => a.startedAt.localeCompare(b.startedAt) || (a.h2?.streamId ?? 0) - (b.h2?.streamId ?? 0));
