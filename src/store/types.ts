/** The snapshot store interface; the filesystem implementation is the local default. */
import type { Readable } from 'node:stream';
import type { DropCounts, RRPair, SnapshotManifest } from '../model/traffic.js';
import type { TallySummary } from './tally.js';

export interface NewSnapshot {
  /** Snapshot id; generated with newSnapshotId() when absent. */
  id?: string;
  service: string;
  source: SnapshotManifest['source'];
  filters?: unknown;
  dlp?: unknown;
  meta?: Record<string, string>;
}

export interface WriterStats {
  pairs: number;
  inbound: number;
  outbound: number;
  bytes: number;
  truncatedBodies: number;
  unscannedBodies: number;
}

/** Appends pairs as a stream; nothing is visible in the store until seal() succeeds. */
export interface SnapshotWriter {
  readonly id: string;
  /**
   * Takes the pair; returns a promise only when the caller must wait (backpressure of the
   * underlying stream) or to reject. `line`: the pair's JSON text (one line), when the caller
   * already has it, so it is not serialised again.
   */
  append(pair: RRPair, line?: string): Promise<void> | undefined;
  /**
   * Whole NDJSON lines encoded elsewhere (a forwarder's ingest thread), with what they hold;
   * a promise as for append().
   */
  appendLines(lines: Buffer, tally: TallySummary): Promise<void> | undefined;
  stats(): WriterStats;
  /** Finishes the stream, writes the manifest and publishes the snapshot atomically. */
  seal(dropped?: Partial<DropCounts>): Promise<SnapshotManifest>;
  /** Discards everything written; the snapshot never appears. Idempotent. */
  abort(): Promise<void>;
}

/**
 * One replica's share of a snapshot that several forwarders write (the S3 store): it stores its
 * own parts and a record of them; the snapshot is sealed over every replica's record
 * (SnapshotStore.sealReplicas), never by one replica.
 */
export interface ReplicaPartWriter extends Omit<SnapshotWriter, 'seal'> {
  readonly writer: string;
  /** Stores everything taken so far and marks this share complete; returns its record. */
  flush(dropped?: Partial<DropCounts>): Promise<object>;
}

export interface SnapshotStore {
  readonly root: string;
  createWriter(spec: NewSnapshot): Promise<SnapshotWriter>;
  /** Sealed snapshots, newest first. */
  list(): Promise<SnapshotManifest[]>;
  /** Throws SnapshotNotFoundError when the id does not name a sealed snapshot. */
  getManifest(id: string): Promise<SnapshotManifest>;
  /** Streams the pairs in capture order without loading the snapshot into memory. */
  readPairs(id: string): AsyncIterable<RRPair>;
  exists(id: string): Promise<boolean>;
  remove(id: string): Promise<void>;
  /** A replica's share of a snapshot several forwarders write; absent: this store cannot. */
  createReplicaWriter?(spec: NewSnapshot & { id: string }, writer: string): Promise<ReplicaPartWriter>;
  /**
   * Writes the one manifest over every replica's share (after each was asked to flush);
   * `unanswered` says why replicas did not flush, for the loss it records. Idempotent.
   */
  sealReplicas?(id: string, unanswered: string[]): Promise<SnapshotManifest>;
  /**
   * What the replicas of an open shared recording were opened with (from their records), so a
   * replica that started later can join it; undefined once sealed or when no replica recorded it.
   */
  sharedRecordingSpec?(id: string): Promise<SharedRecordingSpec | undefined>;
  /** The gzipped traffic as stored, when the snapshot is one part; lets it be sent without re-encoding. */
  rawTraffic?(id: string): Promise<Readable | undefined>;
}

export interface SharedRecordingSpec {
  service: string;
  filters?: unknown;
  dlp?: unknown;
  meta: Record<string, string>;
}

export class SnapshotNotFoundError extends Error {
  constructor(readonly snapshotId: string) {
    super(`snapshot "${snapshotId}" not found`);
    this.name = 'SnapshotNotFoundError';
  }
}
