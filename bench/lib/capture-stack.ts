/**
 * Reprise's capture path as it runs for real, for the measures: the forwarder process writing a
 * filesystem store, a recording opened on it, and the sidecar process shipping every pair to
 * it. Each is its own process, started from dist/ as `reprise capture` starts them.
 */
import { workerEnv } from '../../src/base/node-options.js';
import path from 'node:path';
import { FsSnapshotStore } from '../../src/store/fs-store.js';
import type { SnapshotManifest } from '../../src/model/traffic.js';
import { distPath, processCpuUs, startReady, type Started } from './common.js';

export const BENCH_SERVICE = 'bench';
/** Generous: on a loaded 2-core machine a worker's imports alone can take many seconds. */
const START_TIMEOUT_MS = 60_000;

export interface SidecarStats {
  pairs: number;
  shipped: number;
  dropped: number;
  bufferedPairs: number;
  parseErrors: number;
  overflows: number;
  tlsErrors: number;
}

export interface CaptureStack {
  forwarder: Started;
  sidecar: Started;
  inPort: number;
  outPort: number;
  home: string;
  store: FsSnapshotStore;
  /** Opens a recording for the bench service (pairs before this go nowhere). */
  open(snapshotId: string): Promise<void>;
  /** Waits until the sidecar has shipped everything it recorded, then seals; returns the manifest. */
  seal(snapshotId: string, timeoutMs?: number): Promise<SnapshotManifest>;
  stats(): Promise<SidecarStats>;
  /** CPU the sidecar process has used so far, in microseconds. */
  sidecarCpuUs(): number;
  /** CPU the forwarder process has used so far, in microseconds (it shares the machine too). */
  forwarderCpuUs(): number;
  stop(): Promise<void>;
}

export interface CaptureStackOptions {
  workDir: string;
  /** The app the inbound proxy fronts; absent = inbound off. */
  appPort?: number;
  /** Turn the outbound forward proxy on (ephemeral port), with TLS interception when set. */
  outbound?: { tlsIntercept: boolean; caDir: string; extraCaFile?: string };
  /** Extra sidecar flags, e.g. ['--flush-ms', '50']. */
  sidecarArgs?: string[];
  /** Extra node flags for the sidecar, e.g. ['--cpu-prof', '--cpu-prof-dir=DIR']. */
  sidecarNodeArgs?: string[];
  /** The node binary the sidecar runs on (default: this one). */
  sidecarNode?: string;
  /** Extra node flags for the forwarder (profiling). */
  forwarderNodeArgs?: string[];
}

/** The sidecar process as `reprise capture` starts it, shipping to `forwarderUrl`; prints its ports when ready. */
export function startSidecar(
  opts: Omit<CaptureStackOptions, 'workDir' | 'forwarderNodeArgs'>,
  forwarderUrl: string,
  env: NodeJS.ProcessEnv = { LOG_LEVEL: 'warn' },
): Promise<Started> {
  return startReady(
    opts.sidecarNode ?? process.execPath,
    [
      ...(opts.sidecarNodeArgs ?? []),
      distPath('workers/sidecar.js'),
      ...(opts.appPort ? ['--app-port', String(opts.appPort), '--in-port', '0'] : ['--in-port', '-1']),
      ...(opts.outbound ? ['--out-port', '0', '--ca-dir', opts.outbound.caDir] : ['--out-port', '-1']),
      ...(opts.outbound?.tlsIntercept ? ['--tls-intercept'] : []),
      '--admin-port',
      '0',
      '--forwarder',
      forwarderUrl,
      '--service',
      BENCH_SERVICE,
      ...(opts.sidecarArgs ?? []),
    ],
    {
      env: {
        ...env,
        ...(opts.outbound?.extraCaFile && { NODE_EXTRA_CA_CERTS: opts.outbound.extraCaFile }),
      },
    },
  );
}

/** A sidecar's counters, from its admin port's /stats. */
export async function sidecarStats(sidecar: Started): Promise<SidecarStats> {
  const res = await fetch(`http://127.0.0.1:${Number(sidecar.ready.adminPort)}/stats`);
  return (await res.json()) as SidecarStats;
}

export async function startCaptureStack(opts: CaptureStackOptions): Promise<CaptureStack> {
  const home = path.join(opts.workDir, 'reprise-home');
  // pino's info lines would be a cost the real deployments choose; the bench keeps warnings.
  const env = { REPRISE_HOME: home, LOG_LEVEL: 'warn' };
  const forwarder = await startReady(
    process.execPath,
    [...(opts.forwarderNodeArgs ?? []), distPath('workers/forwarder.js'), '--port', '0', '--home', home],
    { env: workerEnv('forwarder', env), timeoutMs: START_TIMEOUT_MS },
  );
  const fwdUrl = `http://127.0.0.1:${Number(forwarder.ready.port)}`;
  let sidecar: Started;
  try {
    sidecar = await startSidecar(opts, fwdUrl, env);
  } catch (err) {
    await forwarder.stop();
    throw err;
  }
  const store = new FsSnapshotStore(home);
  const stats = () => sidecarStats(sidecar);
  const post = async (url: string, body?: unknown) => {
    const res = await fetch(url, {
      method: 'POST',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`POST ${url}: ${res.status} ${await res.text()}`);
    return res.json() as Promise<unknown>;
  };
  return {
    forwarder,
    sidecar,
    inPort: Number(sidecar.ready.inPort),
    outPort: Number(sidecar.ready.outPort),
    home,
    store,
    stats,
    async open(snapshotId) {
      await post(`${fwdUrl}/v1/recordings`, { snapshotId, service: BENCH_SERVICE });
    },
    async seal(snapshotId, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      // Nothing buffered and nothing new for a flush interval: everything recorded reached the forwarder.
      let last = -1;
      for (;;) {
        const s = await stats();
        if (s.bufferedPairs === 0 && s.pairs === last) break;
        if (Date.now() > deadline) throw new Error(`sidecar still has ${s.bufferedPairs} pairs buffered`);
        last = s.pairs;
        await new Promise((r) => setTimeout(r, 300));
      }
      return (await post(`${fwdUrl}/v1/recordings/${snapshotId}/seal`)) as SnapshotManifest;
    },
    sidecarCpuUs: () => processCpuUs(sidecar.child.pid!),
    forwarderCpuUs: () => processCpuUs(forwarder.child.pid!),
    async stop() {
      await sidecar.stop();
      await forwarder.stop();
    },
  };
}
