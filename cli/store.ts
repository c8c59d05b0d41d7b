/** The snapshot store the commands read and write, and the one-line answer for a missing snapshot. */
import { openSnapshotStore, StoreConfigError } from '../src/store/open.js';
import { SnapshotNotFoundError, type SnapshotStore } from '../src/store/types.js';
import type { SnapshotManifest } from '../src/model/traffic.js';
import { repriseHome } from '../src/base/paths.js';
import { CliError, UsageError } from './errors.js';

/** The store REPRISE_STORE names (the filesystem under REPRISE_HOME by default). */
export function cliStore(): SnapshotStore {
  try {
    return openSnapshotStore(repriseHome());
  } catch (err) {
    throw err instanceof StoreConfigError ? new UsageError(err.message) : err;
  }
}

/** The manifest, or a CliError naming the snapshot and the store it is not in. */
export async function requireSnapshot(id: string, store = cliStore()): Promise<SnapshotManifest> {
  try {
    return await store.getManifest(id);
  } catch (err) {
    if (err instanceof SnapshotNotFoundError) {
      throw new CliError(`snapshot "${id}" not found in ${store.root} (see \`reprise snapshot ls\`)`);
    }
    throw err;
  }
}

/**
 * Whether the worker that will run a workflow reads this machine's store: the embedded one and
 * `reprise up` do; a worker behind TEMPORAL_ADDRESS may have its own (a cluster's), so a
 * snapshot missing here is its to judge.
 */
export function workerSharesStore(env: NodeJS.ProcessEnv = process.env): boolean {
  // serverFromEnv()'s test, without loading the Temporal client at start-up (~0.5 s).
  return !env.TEMPORAL_ADDRESS && !env.TEMPORAL_NAMESPACE;
}

/** Before starting anything: a snapshot the worker would not find fails here, in one line. */
export async function checkSnapshotFirst(id: string): Promise<void> {
  if (workerSharesStore()) await requireSnapshot(id);
}
