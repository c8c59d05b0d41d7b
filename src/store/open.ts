/**
 * Which store a process uses, from its environment: the filesystem under REPRISE_HOME by
 * default, an S3-compatible bucket when `REPRISE_STORE=s3://BUCKET/PREFIX` (see s3/config.ts).
 * Every process of one installation (CLI, forwarder, orchestrator, generator, responder) must
 * see the same REPRISE_STORE.
 */
import { FsSnapshotStore } from './fs-store.js';
import { FsReplayResults, type ReplayResultStore } from './results.js';
import { s3Location, StoreConfigError } from './s3/config.js';
import { S3Objects } from './s3/objects.js';
import { S3ReplayResults } from './s3/results.js';
import { S3SnapshotStore } from './s3/store.js';
import type { SnapshotStore } from './types.js';

export { StoreConfigError } from './s3/config.js';

export interface Stores {
  snapshots: SnapshotStore;
  results: ReplayResultStore;
}

/** One S3 connection per store URL and environment in a process: clients hold sockets. */
const s3Cache = new Map<string, S3Objects>();

function s3Objects(url: string, env: NodeJS.ProcessEnv): S3Objects {
  const loc = s3Location(url, env);
  const key = JSON.stringify(loc);
  let objects = s3Cache.get(key);
  if (!objects) {
    objects = new S3Objects(loc);
    s3Cache.set(key, objects);
  }
  return objects;
}

/** The store REPRISE_STORE names; throws StoreConfigError naming the variable when malformed. */
export function openStores(home: string, env: NodeJS.ProcessEnv = process.env): Stores {
  const url = env.REPRISE_STORE?.trim();
  if (!url) return { snapshots: new FsSnapshotStore(home), results: new FsReplayResults(home) };
  if (!url.startsWith('s3://')) {
    throw new StoreConfigError(
      `REPRISE_STORE: expected s3://BUCKET or s3://BUCKET/PREFIX (or unset: the filesystem under REPRISE_HOME), got "${url}"`,
    );
  }
  const objects = s3Objects(url, env);
  const replicas = { flushMs: replicaFlushMs(env), flushBytes: replicaFlushBytes(env) };
  return { snapshots: new S3SnapshotStore(objects, replicas), results: new S3ReplayResults(objects) };
}

/** REPRISE_REPLICA_FLUSH_SECONDS (default 5): how much a forwarder replica may lose if it dies. */
function replicaFlushMs(env: NodeJS.ProcessEnv): number {
  const text = env.REPRISE_REPLICA_FLUSH_SECONDS?.trim() || '5';
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0.1 || n > 3600)
    throw new StoreConfigError(
      `REPRISE_REPLICA_FLUSH_SECONDS: expected seconds from 0.1 to 3600, got "${text}"`,
    );
  return n * 1000;
}

export const openSnapshotStore = (home: string, env: NodeJS.ProcessEnv = process.env): SnapshotStore =>
  openStores(home, env).snapshots;

export const openReplayResults = (home: string, env: NodeJS.ProcessEnv = process.env): ReplayResultStore =>
  openStores(home, env).results;

/** REPRISE_REPLICA_FLUSH_BYTES (default 64 MiB): a replica's segment is flushed once this big. */
function replicaFlushBytes(env: NodeJS.ProcessEnv): number {
  const text = env.REPRISE_REPLICA_FLUSH_BYTES?.trim() || String(64 * 1024 * 1024);
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1)
    throw new StoreConfigError(
      `REPRISE_REPLICA_FLUSH_BYTES: expected a whole number of bytes >= 1, got "${text}"`,
    );
  return n;
}
