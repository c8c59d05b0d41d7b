/**
 * The snapshot store in an S3-compatible bucket: `<prefix>snapshots/<id>/manifest.json` beside
 * the traffic parts it names (`traffic-<writer>.ndjson.gz`). A folder is a snapshot only when
 * its manifest exists, and the manifest is written last, so list() shows sealed snapshots only.
 */
import type { Readable } from 'node:stream';
import { isSafeId } from '../../base/ids.js';
import { newSnapshotId } from '../../base/new-id.js';
import { childLog } from '../../base/log.js';
import type { RRPair, SnapshotManifest } from '../../model/traffic.js';
import { InvalidSnapshotIdError, SnapshotExistsError } from '../errors.js';
import { MANIFEST_FILE, parseManifest } from '../manifest.js';
import { readSnapshotPairs, trafficParts, type ReadPairsOptions } from '../read-pairs.js';
import {
  SnapshotNotFoundError,
  type NewSnapshot,
  type ReplicaPartWriter,
  type SharedRecordingSpec,
  type SnapshotStore,
  type SnapshotWriter,
} from '../types.js';
import { isNotFound, type S3Objects } from './objects.js';
import { S3ReplicaWriter, type ReplicaWriterOptions } from './replica-writer.js';
import { sealReplicas } from './seal-replicas.js';
import { readWriterRecords } from './writer-record.js';
import { S3SnapshotWriter, snapshotKey } from './writer.js';

/** Manifests fetched at once by list(). */
const LIST_CONCURRENCY = 8;

export class S3SnapshotStore implements SnapshotStore {
  /** `s3://bucket/prefix/snapshots/`: where messages say the snapshots are. */
  readonly root: string;
  private readonly log = childLog('s3-store');

  /** `replicas`: how often a replica's share is flushed (tests flush often). */
  constructor(
    readonly objects: S3Objects,
    private readonly replicas: Omit<ReplicaWriterOptions, 'writer'> = {},
  ) {
    this.root = objects.describe('snapshots/');
  }

  async createWriter(spec: NewSnapshot): Promise<SnapshotWriter> {
    const id = spec.id ?? newSnapshotId();
    this.checkId(id);
    if (await this.exists(id)) throw new SnapshotExistsError(id);
    return new S3SnapshotWriter(id, spec, this.objects);
  }

  async createReplicaWriter(spec: NewSnapshot & { id: string }, writer: string): Promise<ReplicaPartWriter> {
    this.checkId(spec.id);
    if (await this.exists(spec.id)) throw new SnapshotExistsError(spec.id);
    return S3ReplicaWriter.open(spec.id, spec, this.objects, { ...this.replicas, writer });
  }

  sealReplicas(id: string, unanswered: string[]): Promise<SnapshotManifest> {
    this.checkId(id);
    return sealReplicas(this.objects, id, unanswered);
  }

  async sharedRecordingSpec(id: string): Promise<SharedRecordingSpec | undefined> {
    this.checkId(id);
    if (await this.exists(id)) return undefined;
    const open = (await readWriterRecords(this.objects, id)).find((r) => r.state === 'open');
    if (!open) return undefined;
    const { service, filters, dlp, meta } = open.spec;
    return { service, filters, dlp, meta };
  }

  async list(): Promise<SnapshotManifest[]> {
    const { folders } = await this.objects.list('snapshots/', '/');
    const ids = folders.map((f) => f.slice('snapshots/'.length, -1)).filter((id) => isSafeId(id));
    const manifests: SnapshotManifest[] = [];
    for (let i = 0; i < ids.length; i += LIST_CONCURRENCY) {
      const batch = await Promise.all(ids.slice(i, i + LIST_CONCURRENCY).map((id) => this.listed(id)));
      for (const m of batch) if (m) manifests.push(m);
    }
    return manifests.sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id));
  }

  /** The manifest, or undefined for a folder that is not (or no longer) a readable snapshot. */
  private async listed(id: string): Promise<SnapshotManifest | undefined> {
    try {
      return await this.getManifest(id);
    } catch (err) {
      if (err instanceof SnapshotNotFoundError) return undefined; // parts without a manifest
      this.log.warn({ snapshotId: id, err: (err as Error).message }, 'skipping unreadable snapshot');
      return undefined;
    }
  }

  async getManifest(id: string): Promise<SnapshotManifest> {
    this.checkId(id);
    let text: string;
    try {
      text = await this.objects.getText(snapshotKey(id, MANIFEST_FILE));
    } catch (err) {
      if (isNotFound(err)) throw new SnapshotNotFoundError(id);
      throw err;
    }
    return parseManifest(id, text);
  }

  exists(id: string): Promise<boolean> {
    this.checkId(id);
    return this.objects.exists(snapshotKey(id, MANIFEST_FILE));
  }

  /** Streams each part as it downloads; several parts are merged in capture order. */
  async *readPairs(id: string, opts: ReadPairsOptions = {}): AsyncGenerator<RRPair> {
    const manifest = await this.getManifest(id);
    const open = (part: string) => this.objects.getStream(snapshotKey(id, part));
    yield* readSnapshotPairs(manifest, open, isNotFound, opts);
  }

  /** The traffic object as stored, when the snapshot has one part (the snapshot API sends it as is). */
  async rawTraffic(id: string): Promise<Readable | undefined> {
    const parts = trafficParts(await this.getManifest(id));
    return parts.length === 1 ? this.objects.getStream(snapshotKey(id, parts[0])) : undefined;
  }

  /** The manifest goes first, so the snapshot stops listing before its parts are deleted. */
  async remove(id: string): Promise<void> {
    if (!(await this.exists(id))) throw new SnapshotNotFoundError(id);
    await this.objects.delete(snapshotKey(id, MANIFEST_FILE));
    const { objects } = await this.objects.list(snapshotKey(id));
    for (const o of objects) await this.objects.delete(o.key);
  }

  /**
   * Removes what crashed or failed writers left, older than `olderThanMs`: pending multipart
   * uploads, and parts no manifest names. Returns the keys removed (relative to the prefix).
   * Writers on other machines cannot be asked whether they live: keep the age generous (hours).
   */
  async cleanPartials(olderThanMs: number): Promise<string[]> {
    const cutoff = Date.now() - olderThanMs;
    const removed: string[] = [];
    for (const u of await this.objects.pendingUploads('snapshots/')) {
      if (u.lastModified > cutoff) continue;
      await this.objects.abortUpload(u);
      removed.push(u.key);
    }
    const keep = new Map<string, (file: string) => boolean>();
    for (const o of (await this.objects.list('snapshots/')).objects) {
      const [, id, file] = o.key.split('/');
      if (o.lastModified > cutoff || file === MANIFEST_FILE || !id || !isSafeId(id)) continue;
      if (!keep.has(id)) keep.set(id, await this.named(id));
      if (keep.get(id)!(file)) continue;
      await this.objects.delete(o.key);
      removed.push(o.key);
    }
    return removed;
  }

  /** Which files of a folder its manifest names: none without one, all when it is unreadable. */
  private async named(id: string): Promise<(file: string) => boolean> {
    try {
      const parts = new Set(trafficParts(await this.getManifest(id)));
      return (file) => parts.has(file);
    } catch (err) {
      return err instanceof SnapshotNotFoundError ? () => false : () => true;
    }
  }

  private checkId(id: string): void {
    if (typeof id !== 'string' || !isSafeId(id)) throw new InvalidSnapshotIdError(String(id));
  }
}
