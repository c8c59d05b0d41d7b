/**
 * The local snapshot store: `<home>/snapshots/<id>/{manifest.json, traffic.ndjson.gz}`.
 * A folder is a snapshot only when it holds a valid manifest.json, which is written last.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { isSafeId } from '../base/ids.js';
import { newSnapshotId } from '../base/new-id.js';
import { childLog } from '../base/log.js';
import { snapshotsDir } from '../base/paths.js';
import type { RRPair, SnapshotManifest } from '../model/traffic.js';
import { SnapshotNotFoundError, type NewSnapshot, type SnapshotStore, type SnapshotWriter } from './types.js';
import { InvalidSnapshotIdError, SnapshotExistsError } from './errors.js';
import { FsSnapshotWriter, OWNER_FILE, PARTIAL_PREFIX, type PartialOwner } from './fs-writer.js';
import { MANIFEST_FILE, parseManifest } from './manifest.js';
import { readSnapshotPairs, trafficParts, type ReadPairsOptions } from './read-pairs.js';

export type { ReadPairsOptions } from './read-pairs.js';

/** Folders being deleted: renamed first so a half-removed snapshot never lists. */
const REMOVING_PREFIX = '.removing-';

export class FsSnapshotStore implements SnapshotStore {
  readonly root: string;
  private readonly log = childLog('store');

  constructor(home: string) {
    this.root = snapshotsDir(path.resolve(home));
  }

  async createWriter(spec: NewSnapshot): Promise<SnapshotWriter> {
    const id = spec.id ?? newSnapshotId();
    this.checkId(id);
    if (await this.exists(id)) throw new SnapshotExistsError(id);
    return FsSnapshotWriter.create(this.root, id, spec);
  }

  async list(): Promise<SnapshotManifest[]> {
    const entries = await readdirOrEmpty(this.root);
    const manifests: SnapshotManifest[] = [];
    for (const e of entries) {
      if (!e.isDirectory() || e.name.startsWith('.') || !isSafeId(e.name)) continue;
      try {
        manifests.push(await this.getManifest(e.name));
      } catch (err) {
        if (err instanceof SnapshotNotFoundError) continue; // no manifest: not a snapshot
        this.log.warn({ snapshotId: e.name, err: (err as Error).message }, 'skipping unreadable snapshot');
      }
    }
    return manifests.sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id));
  }

  async getManifest(id: string): Promise<SnapshotManifest> {
    this.checkId(id);
    let text: string;
    try {
      text = await readFile(path.join(this.root, id, MANIFEST_FILE), 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') throw new SnapshotNotFoundError(id);
      throw err;
    }
    return parseManifest(id, text);
  }

  async exists(id: string): Promise<boolean> {
    this.checkId(id);
    try {
      return (await stat(path.join(this.root, id, MANIFEST_FILE))).isFile();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return false;
      throw err;
    }
  }

  /** Streams gunzip -> lines -> JSON.parse: memory stays flat however big the snapshot is. */
  async *readPairs(id: string, opts: ReadPairsOptions = {}): AsyncGenerator<RRPair> {
    const manifest = await this.getManifest(id); // not found / corrupt before any pair
    const open = (part: string) => Promise.resolve(createReadStream(path.join(this.root, id, part)));
    yield* readSnapshotPairs(manifest, open, isMissing, opts);
  }

  /** The traffic file as stored, when the snapshot has one (the snapshot API sends it as is). */
  async rawTraffic(id: string): Promise<Readable | undefined> {
    const parts = trafficParts(await this.getManifest(id));
    return parts.length === 1 ? createReadStream(path.join(this.root, id, parts[0])) : undefined;
  }

  async remove(id: string): Promise<void> {
    if (!(await this.exists(id))) throw new SnapshotNotFoundError(id);
    const doomed = path.join(this.root, `${REMOVING_PREFIX}${id}-${randomBytes(4).toString('hex')}`);
    await rename(path.join(this.root, id), doomed);
    await rm(doomed, { recursive: true, force: true });
  }

  /**
   * Removes what crashed writers and interrupted removals left: partial folders not touched
   * for `olderThanMs` whose writing process is gone. Returns the folder names removed.
   */
  async cleanPartials(olderThanMs: number): Promise<string[]> {
    const removed: string[] = [];
    const now = Date.now();
    for (const e of await readdirOrEmpty(this.root)) {
      if (!e.isDirectory()) continue;
      const dir = path.join(this.root, e.name);
      if (e.name.startsWith(REMOVING_PREFIX)) {
        await rm(dir, { recursive: true, force: true });
        removed.push(e.name);
        continue;
      }
      if (!e.name.startsWith(PARTIAL_PREFIX)) continue;
      if (now - (await lastTouched(dir)) < olderThanMs) continue;
      if (await ownerAlive(dir)) continue;
      await rm(dir, { recursive: true, force: true });
      removed.push(e.name);
    }
    return removed;
  }

  private checkId(id: string): void {
    if (typeof id !== 'string' || !isSafeId(id)) throw new InvalidSnapshotIdError(String(id));
  }
}

const isMissing = (err: unknown) => (err as NodeJS.ErrnoException).code === 'ENOENT';

async function readdirOrEmpty(dir: string) {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** The newest mtime of the folder and its files: the traffic file changes as gzip flushes. */
async function lastTouched(dir: string): Promise<number> {
  let newest = (await stat(dir)).mtimeMs;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const s = await stat(path.join(dir, name)).catch(() => undefined);
    if (s && s.mtimeMs > newest) newest = s.mtimeMs;
  }
  return newest;
}

/** True when the process that created the partial folder still runs on this host. */
async function ownerAlive(dir: string): Promise<boolean> {
  let owner: PartialOwner;
  try {
    owner = JSON.parse(await readFile(path.join(dir, OWNER_FILE), 'utf8')) as PartialOwner;
  } catch {
    return false;
  }
  if (owner.host !== hostname() || !Number.isInteger(owner.pid)) return false;
  if (owner.pid === process.pid) return true;
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
