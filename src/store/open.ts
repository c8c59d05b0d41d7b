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
  return { snapshots: new S3SnapshotStore(objects), results: new S3ReplayResults(objects) };
}

export const openSnapshotStore = (home: string, env: NodeJS.ProcessEnv = process.env): SnapshotStore =>
  openStores(home, env).snapshots;

export const openReplayResults = (home: string, env: NodeJS.ProcessEnv = process.env): ReplayResultStore =>
  openStores(home, env).results;
