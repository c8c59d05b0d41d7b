/**
 * Writes one snapshot: NDJSON through gzip into a hidden partial folder, published by a
 * rename only when sealed. Nothing a crash leaves behind looks like a snapshot.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { lstat, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { SnapshotManifest } from '../model/traffic.js';
import type { NewSnapshot } from './types.js';
import { SnapshotExistsError } from './errors.js';
import { fsyncDir, fsyncFile, writeFileAtomic } from './durable.js';
import { MANIFEST_FILE, TRAFFIC_FILE } from './manifest.js';
import { StreamingSnapshotWriter } from './stream-writer.js';

export const PARTIAL_PREFIX = '.partial-';
/** Inside a partial folder: which process writes it, so cleanup never removes a live capture. */
export const OWNER_FILE = 'owner.json';

export interface PartialOwner {
  pid: number;
  host: string;
}

export class FsSnapshotWriter extends StreamingSnapshotWriter {
  private constructor(
    id: string,
    spec: NewSnapshot,
    private readonly snapshotsDir: string,
    private readonly partialDir: string,
  ) {
    super(id, spec, (gzip) =>
      pipeline(gzip, createWriteStream(path.join(partialDir, TRAFFIC_FILE), { flags: 'wx' })),
    );
  }

  static async create(snapshotsDir: string, id: string, spec: NewSnapshot): Promise<FsSnapshotWriter> {
    const partialDir = path.join(snapshotsDir, `${PARTIAL_PREFIX}${id}-${randomBytes(4).toString('hex')}`);
    await mkdir(snapshotsDir, { recursive: true });
    await mkdir(partialDir);
    const owner: PartialOwner = { pid: process.pid, host: hostname() };
    await writeFile(path.join(partialDir, OWNER_FILE), JSON.stringify(owner));
    return new FsSnapshotWriter(id, spec, snapshotsDir, partialDir);
  }

  protected async checkPublishable(): Promise<void> {
    if (await pathExists(path.join(this.snapshotsDir, this.id))) throw new SnapshotExistsError(this.id);
  }

  protected async publish(manifest: SnapshotManifest): Promise<void> {
    await fsyncFile(path.join(this.partialDir, TRAFFIC_FILE));
    await writeFileAtomic(
      path.join(this.partialDir, MANIFEST_FILE),
      JSON.stringify(manifest, null, 2) + '\n',
    );
    await rm(path.join(this.partialDir, OWNER_FILE), { force: true });
    try {
      // rename(2) replaces an empty directory silently; a sealed snapshot is never empty, so
      // checkPublishable covers that case and ENOTEMPTY/EEXIST covers a racing writer.
      await rename(this.partialDir, path.join(this.snapshotsDir, this.id));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOTEMPTY' || code === 'EEXIST') throw new SnapshotExistsError(this.id);
      throw err;
    }
    await fsyncDir(this.snapshotsDir);
  }

  protected discard(): Promise<void> {
    return rm(this.partialDir, { recursive: true, force: true });
  }
}

async function pathExists(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}
