/**
 * The forwarder: receives the sidecars' tap batches (decoded into pairs here) or RRPair batches
 * from other producers, keeps what the filters keep, masks it (DLP) and streams it into the
 * snapshots of the open recordings. HTTP API: docs/contracts.md.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { DEFAULT_DLP_RULES, loadOrCreateDlpKey, type DlpRules } from '../dlp/index.js';
import { FilterRules } from '../filters/index.js';
import { childLog } from '../base/log.js';
import type { SnapshotStore } from '../store/types.js';
import { GrpcSchemas } from './grpc-schemas.js';
import type { ReplayResultStore } from '../store/results.js';
import { ForwarderMetrics } from './metrics.js';
import { PolicyCache } from './policy.js';
import { Recordings } from './recordings.js';
import { createLanes, defaultIngestThreads } from './lanes.js';
import { createHandler } from './server.js';
import { SidecarDrops } from './sidecar-drops.js';
import { registerSnapshotApi } from './snapshot-api.js';
import { writerName } from './writer-name.js';

export const DEFAULT_FORWARDER_PORT = 4150;
export const DEFAULT_MAX_BATCH_BYTES = 64 * 1024 * 1024;

export interface ForwarderOptions {
  /** Default 4150; 0 = ephemeral. */
  port?: number;
  host?: string;
  /** REPRISE_HOME: where the per-install DLP key lives. */
  home: string;
  store: SnapshotStore;
  /** Where pods' replay results go (the snapshot API); default: REPRISE_HOME's replay folders. */
  results?: ReplayResultStore;
  /** Rules for recordings opened without their own; `false` = no masking. Default DEFAULT_DLP_RULES. */
  dlp?: DlpRules | false;
  /** Default: the default filters (health checks and telemetry dropped). */
  filters?: FilterRules;
  maxBatchBytes?: number;
  /** Default: `$home/dlp.key`, created on first use. */
  dlpKey?: Buffer;
  /** Name recorded gRPC fields from the servers' reflection (default true). */
  grpcReflection?: boolean;
  /** This forwarder's name in the parts of shared recordings; default writerName(). */
  writer?: string;
  /**
   * Threads that decode, mask and encode tap batches (lanes.ts); 0 = all on the main thread.
   * Default: none on 1-2 usable CPUs, else one per CPU but one, at most 4 (defaultIngestThreads).
   */
  ingestThreads?: number;
  /** Tap batches queued per ingest thread before more are refused (503); default 64. */
  maxQueuedBatches?: number;
  log?: Logger;
}

export interface Forwarder {
  readonly port: number;
  /** Stops the server and aborts every recording never sealed; returns their ids. */
  close(): Promise<string[]>;
}

export async function startForwarder(opts: ForwarderOptions): Promise<Forwarder> {
  const log = opts.log ?? childLog('forwarder');
  const dlpKey = opts.dlpKey ?? (await loadOrCreateDlpKey(opts.home));
  const metrics = new ForwarderMetrics();
  const policies = new PolicyCache(dlpKey);
  const sidecarDrops = new SidecarDrops();
  const defaults = { filters: opts.filters ?? FilterRules.parse({}), dlp: opts.dlp ?? DEFAULT_DLP_RULES };
  // Compiled now so a bad default rule set fails at start, not on the first recording.
  policies.get(defaults.filters, defaults.dlp);
  const recordings = new Recordings(
    opts.store,
    policies,
    defaults,
    sidecarDrops,
    opts.writer ?? writerName(),
  );
  const maxBatchBytes = opts.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES;
  const grpcReflection = opts.grpcReflection ?? true;
  const schemas = new GrpcSchemas({ enabled: grpcReflection, log });
  const lanes = createLanes({
    threads: opts.ingestThreads ?? defaultIngestThreads(),
    maxQueuedBatches: opts.maxQueuedBatches,
    dlpKey,
    grpcReflection,
    policies,
    schemas,
    log,
  });
  const server = createServer(
    { keepAliveTimeout: 30_000 },
    createHandler({
      recordings,
      metrics,
      policies,
      lanes,
      sidecarDrops,
      maxBatchBytes,
      log,
      tap: { recordings, metrics, sidecarDrops, lanes, maxBatchBytes, log },
    }),
  );
  registerSnapshotApi(server, { store: opts.store, home: opts.home, results: opts.results });
  await listen(server, opts.port ?? DEFAULT_FORWARDER_PORT, opts.host ?? '127.0.0.1');
  const port = (server.address() as AddressInfo).port;
  log.info({ port }, 'forwarder listening');
  let closing: Promise<string[]> | undefined;
  return {
    port,
    close: () =>
      (closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const aborted = await recordings.abortAll();
        server.closeAllConnections();
        await stopped;
        await lanes.close();
        return aborted;
      })()),
  };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

export { OpenRecordingBody } from './server.js';
export type { BatchResult } from './ingest.js';
export type { RecordingStatus } from './recording.js';
