/**
 * Writes one snapshot: NDJSON through gzip into a hidden partial folder, published by a
 * rename only when sealed. Nothing a crash leaves behind looks like a snapshot.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { lstat, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { pipeline } from 'node:stream/promises';
import { constants as zlibConstants, createGzip, type Gzip } from 'node:zlib';
import {
  DropCounts,
  FORMAT_VERSION,
  SnapshotManifest,
  UNSCANNED_TAG,
  type RRPair,
} from '../model/traffic.js';
import type { NewSnapshot, SnapshotWriter, WriterStats } from './types.js';
import { SnapshotExistsError } from './errors.js';
import { EndpointCounter } from './endpoints.js';
import { fsyncDir, fsyncFile, writeFileAtomic } from './durable.js';
import { MANIFEST_FILE, TRAFFIC_FILE } from './manifest.js';

const BATCH_CHARS = 64 * 1024;
/** `2024-01-01T00:00:00.000Z`: fixed width, so text order is time order. */
const ISO_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

export const PARTIAL_PREFIX = '.partial-';
/** Inside a partial folder: which process writes it, so cleanup never removes a live capture. */
export const OWNER_FILE = 'owner.json';

export interface PartialOwner {
  pid: number;
  host: string;
}

type State = 'open' | 'sealing' | 'sealed' | 'aborted' | 'failed';

interface Instant {
  iso: string;
  /** Fixed-width UTC: compares as text, without Date.parse. */
  canonical: boolean;
}

const earlier = (a: Instant, b: Instant): boolean =>
  a.canonical && b.canonical ? a.iso < b.iso : Date.parse(a.iso) < Date.parse(b.iso);

export class FsSnapshotWriter implements SnapshotWriter {
  private state: State = 'open';
  private readonly counts: WriterStats = {
    pairs: 0,
    inbound: 0,
    outbound: 0,
    bytes: 0,
    truncatedBodies: 0,
    unscannedBodies: 0,
  };
  private readonly endpoints = new EndpointCounter();
  private first?: Instant;
  private last?: Instant;
  private readonly createdAt = new Date().toISOString();
  private drain?: Promise<void>;
  /** Lines not yet handed to gzip: one zlib call per ~64 KiB instead of one per pair. */
  private pending: string[] = [];
  private pendingChars = 0;
  private sealing?: Promise<SnapshotManifest>;
  private aborting?: Promise<void>;
  private failure?: Error;

  private constructor(
    readonly id: string,
    private readonly spec: NewSnapshot,
    private readonly snapshotsDir: string,
    private readonly partialDir: string,
    private readonly gzip: Gzip,
    /** Settles when the gzip -> file pipeline ends; rejects on a write error (disk full, ...). */
    private readonly written: Promise<void>,
  ) {}

  static async create(snapshotsDir: string, id: string, spec: NewSnapshot): Promise<FsSnapshotWriter> {
    const partialDir = path.join(snapshotsDir, `${PARTIAL_PREFIX}${id}-${randomBytes(4).toString('hex')}`);
    await mkdir(snapshotsDir, { recursive: true });
    await mkdir(partialDir);
    const owner: PartialOwner = { pid: process.pid, host: hostname() };
    await writeFile(path.join(partialDir, OWNER_FILE), JSON.stringify(owner));
    // Fastest level: the store sits behind live capture, CPU matters more than disk here.
    const gzip = createGzip({ level: zlibConstants.Z_BEST_SPEED });
    const file = createWriteStream(path.join(partialDir, TRAFFIC_FILE), { flags: 'wx' });
    const written = pipeline(gzip, file);
    const writer = new FsSnapshotWriter(id, spec, snapshotsDir, partialDir, gzip, written);
    // Observed through append/seal; never an unhandled rejection.
    written.catch((err: unknown) => (writer.failure ??= err as Error));
    return writer;
  }

  /**
   * Synchronous unless gzip asks the writer to wait (then a promise for the drain): a batch of
   * pairs costs no microtask per pair. `line` is the pair's JSON when the caller already has it
   * (the forwarder passes an ingested line through untouched), saving a JSON.stringify.
   */
  append(pair: RRPair, line?: string): Promise<void> | undefined {
    if (this.state !== 'open')
      return Promise.reject(new Error(`snapshot writer "${this.id}" is ${this.state}; cannot append`));
    if (this.failure)
      return Promise.reject(new Error(`snapshot writer "${this.id}" failed: ${this.failure.message}`));
    const text = (line ?? JSON.stringify(pair)) + '\n';
    this.count(pair, Buffer.byteLength(text));
    this.pending.push(text);
    this.pendingChars += text.length;
    if (this.pendingChars >= BATCH_CHARS && !this.flush()) return this.waitDrain();
    return undefined;
  }

  stats(): WriterStats {
    return { ...this.counts };
  }

  seal(dropped: Partial<DropCounts> = {}): Promise<SnapshotManifest> {
    if (this.sealing) return this.sealing;
    if (this.state !== 'open')
      return Promise.reject(new Error(`snapshot writer "${this.id}" is ${this.state}`));
    this.state = 'sealing';
    this.sealing = this.publish(dropped).then(
      (m) => {
        this.state = 'sealed';
        return m;
      },
      async (err: unknown) => {
        // The gzip stream is ended: a retry cannot succeed, so leave nothing behind.
        this.state = 'failed';
        await rm(this.partialDir, { recursive: true, force: true });
        throw err;
      },
    );
    return this.sealing;
  }

  abort(): Promise<void> {
    if (this.state === 'sealed' || this.state === 'sealing') {
      return Promise.reject(
        new Error(`snapshot "${this.id}" is ${this.state}; remove it from the store instead`),
      );
    }
    this.aborting ??= (async () => {
      this.state = 'aborted';
      this.gzip.destroy();
      await this.written.catch(() => {});
      await rm(this.partialDir, { recursive: true, force: true });
    })();
    return this.aborting;
  }

  private count(pair: RRPair, bytes: number): void {
    const c = this.counts;
    c.pairs++;
    if (pair.direction === 'inbound') c.inbound++;
    else c.outbound++;
    c.bytes += bytes;
    if (pair.request.body?.truncated) c.truncatedBodies++;
    if (pair.response?.body?.truncated) c.truncatedBodies++;
    const unscanned = pair.tags?.[UNSCANNED_TAG];
    if (unscanned) c.unscannedBodies += unscanned.split(',').length;
    this.endpoints.add(pair);
    this.noteTime(pair.startedAt);
  }

  /** The capture window. Canonical UTC ISO strings (what sidecars write) order as text. */
  private noteTime(iso: string): void {
    const canonical = ISO_UTC.test(iso);
    if (!canonical && Number.isNaN(Date.parse(iso))) return;
    const t = { iso, canonical };
    if (!this.first || earlier(t, this.first)) this.first = t;
    if (!this.last || earlier(this.last, t)) this.last = t;
  }

  /** Hands the batched lines to gzip; false when gzip asks the writer to wait for 'drain'. */
  private flush(): boolean {
    if (this.pending.length === 0) return true;
    const chunk = this.pending.join('');
    this.pending = [];
    this.pendingChars = 0;
    return this.gzip.write(chunk);
  }

  /** One shared wait per drain, so many concurrent appends do not pile listeners on the stream. */
  private waitDrain(): Promise<void> {
    this.drain ??= Promise.race([
      once(this.gzip, 'drain').then(() => undefined),
      // After end() no 'drain' comes: a pair written before seal() is accepted once the file is.
      this.written.then(() => {
        if (this.state === 'open')
          throw new Error(`snapshot writer "${this.id}": stream closed while appending`);
      }),
    ]).finally(() => {
      this.drain = undefined;
    });
    return this.drain;
  }

  private async publish(dropped: Partial<DropCounts>): Promise<SnapshotManifest> {
    const finalDir = path.join(this.snapshotsDir, this.id);
    // Checked first so a clash fails before any work; the rename below checks again.
    if (await pathExists(finalDir)) throw new SnapshotExistsError(this.id);

    this.flush();
    this.gzip.end();
    await this.written;
    const trafficFile = path.join(this.partialDir, TRAFFIC_FILE);
    await fsyncFile(trafficFile);

    const manifest = SnapshotManifest.parse(this.manifest(dropped));
    await writeFileAtomic(
      path.join(this.partialDir, MANIFEST_FILE),
      JSON.stringify(manifest, null, 2) + '\n',
    );
    await rm(path.join(this.partialDir, OWNER_FILE), { force: true });

    try {
      // rename(2) replaces an empty directory silently; a sealed snapshot is never empty, so
      // the pre-check above covers that case and ENOTEMPTY/EEXIST covers a racing writer.
      await rename(this.partialDir, finalDir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOTEMPTY' || code === 'EEXIST') throw new SnapshotExistsError(this.id);
      throw err;
    }
    await fsyncDir(this.snapshotsDir);
    return manifest;
  }

  private manifest(dropped: Partial<DropCounts>): SnapshotManifest {
    const sealedAt = new Date().toISOString();
    const { endpoints, otherEndpoints } = this.endpoints.summary();
    return {
      formatVersion: FORMAT_VERSION,
      id: this.id,
      service: this.spec.service,
      source: this.spec.source,
      createdAt: this.createdAt,
      sealedAt,
      window: { start: this.first?.iso ?? this.createdAt, end: this.last?.iso ?? this.createdAt },
      counts: { ...this.counts, dropped: DropCounts.parse(dropped) },
      endpoints,
      otherEndpoints,
      // Left out when absent, so the manifest seal() returns equals the one read back.
      ...(this.spec.filters !== undefined ? { filters: this.spec.filters } : {}),
      ...(this.spec.dlp !== undefined ? { dlp: this.spec.dlp } : {}),
      meta: { ...this.spec.meta },
    };
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
