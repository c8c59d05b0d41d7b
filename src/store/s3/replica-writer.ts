/**
 * One forwarder replica's share of a recording that several replicas write (S3 store): its pairs
 * go into a row of segments (`traffic-<writer>-<n>.ndjson.gz`), each a complete object once
 * flushed, so a replica that dies loses only the segment it was filling. After each flush it
 * rewrites its writer record (writer-record.ts). It never writes the manifest: the seal
 * (seal-replicas.ts) does, over every replica's record.
 */
import { childLog } from '../../base/log.js';
import type { DropCounts, RRPair, SnapshotManifest } from '../../model/traffic.js';
import { DropCounts as DropCountsSchema } from '../../model/traffic.js';
import { addSummaries, emptySummary, summaryOf, type PartsSummary } from '../parts-summary.js';
import type { NewSnapshot, ReplicaPartWriter, WriterStats } from '../types.js';
import type { TallySummary } from '../tally.js';
import type { S3Objects } from './objects.js';
import { putWriterRecord, writerRecordKey, type WriterRecord } from './writer-record.js';
import { S3SnapshotWriter, snapshotKey } from './writer.js';

const log = childLog('s3-replica-writer');
/** The record notes the running counts at least this often (loss accounting if the replica dies). */
const NOTE_MS = 1_000;

export interface ReplicaWriterOptions {
  /** This replica's name in part and record names (letters, digits, `_`, `.`, `-`). */
  writer: string;
  /** A segment is flushed at least this often (default 5 s): at most this much is lost on a crash. */
  flushMs?: number;
  /** ... and once it holds this many uncompressed bytes (default 64 MiB). */
  flushBytes?: number;
}

/** A segment: the ordinary S3 writer without a manifest; its seal() only completes its object. */
class Segment extends S3SnapshotWriter {
  protected override async checkPublishable(): Promise<void> {}
  protected override async publish(): Promise<void> {}
}

export class S3ReplicaWriter implements ReplicaPartWriter {
  readonly writer: string;
  private readonly flushMs: number;
  private readonly flushBytes: number;
  private segment: Segment;
  private seq = 0;
  /** Segments being flushed: still counted as taken, not yet as stored. */
  private readonly flushing = new Set<Segment>();
  private readonly parts: string[] = [];
  private flushed: PartsSummary = emptySummary();
  private readonly createdAt = new Date().toISOString();
  private chain: Promise<void> = Promise.resolve();
  private failure?: Error;
  private state: 'open' | 'flushed' | 'aborted' = 'open';
  /** The current segment was sealed by the final flush (or aborted): no longer counted as open. */
  private segmentDone = false;
  private rollQueued = false;
  private readonly timer: NodeJS.Timeout;
  private readonly noteTimer: NodeJS.Timeout;
  /** Pairs taken when the record was last written: a note is due when this changed. */
  private noted = 0;

  private constructor(
    readonly id: string,
    private readonly spec: NewSnapshot,
    private readonly objects: S3Objects,
    opts: ReplicaWriterOptions,
  ) {
    this.writer = opts.writer;
    this.flushMs = opts.flushMs ?? 5_000;
    this.flushBytes = opts.flushBytes ?? 64 * 1024 * 1024;
    this.segment = this.nextSegment();
    this.timer = setInterval(() => void this.roll(), this.flushMs).unref();
    this.noteTimer = setInterval(() => void this.note(), Math.min(this.flushMs, NOTE_MS)).unref();
  }

  /**
   * Rewrites the record with what was taken, between flushes: if this replica dies, the seal
   * knows about how much it lost (what it had taken at the last note, beyond what it flushed).
   */
  private note(): Promise<void> {
    this.chain = this.chain.then(async () => {
      if (this.failure || this.state !== 'open' || this.stats().pairs === this.noted) return;
      await this.writeRecord({}).catch((err: unknown) =>
        log.warn({ snapshotId: this.id, err: (err as Error).message }, 'writer record not updated'),
      );
    });
    return this.chain;
  }

  /** Writes the open record first, so the seal knows this replica even if it dies before a flush. */
  static async open(id: string, spec: NewSnapshot, objects: S3Objects, opts: ReplicaWriterOptions) {
    const w = new S3ReplicaWriter(id, spec, objects, opts);
    try {
      await w.writeRecord({});
    } catch (err) {
      await w.abort();
      throw err;
    }
    return w;
  }

  private nextSegment(): Segment {
    const name = `${this.writer}-${String(++this.seq).padStart(6, '0')}`;
    return new Segment(this.id, this.spec, this.objects, name);
  }

  append(pair: RRPair, line?: string): Promise<void> | undefined {
    return this.toSegment((segment) => segment.append(pair, line));
  }

  appendLines(lines: Buffer, tally: TallySummary): Promise<void> | undefined {
    return this.toSegment((segment) => segment.appendLines(lines, tally));
  }

  /** Appends to the current segment, rolling to the next once it holds flushBytes. */
  private toSegment(append: (segment: Segment) => Promise<void> | undefined): Promise<void> | undefined {
    if (this.failure)
      return Promise.reject(
        new Error(`writer ${this.writer} of "${this.id}" failed: ${this.failure.message}`),
      );
    const pending = append(this.segment);
    if (!this.rollQueued && this.segment.stats().bytes >= this.flushBytes) {
      this.rollQueued = true;
      void this.roll().finally(() => (this.rollQueued = false));
    }
    return pending;
  }

  stats(): WriterStats {
    const total = { ...this.flushed.counts };
    for (const s of this.segmentDone ? this.flushing : [...this.flushing, this.segment]) {
      const c = s.stats();
      for (const k of Object.keys(total) as (keyof WriterStats)[]) total[k] += c[k];
    }
    return total;
  }

  /** Completes the current segment (when it holds pairs) and records it; one flush at a time. */
  private roll(final = false, dropped: Partial<DropCounts> = {}): Promise<void> {
    this.chain = this.chain.then(async () => {
      if (this.failure || this.state !== 'open') return;
      const full = this.segment;
      // The first segment is kept even empty on the final flush: a flushed writer has a part.
      if (final) this.segmentDone = true;
      if (full.stats().pairs === 0 && !(final && this.parts.length === 0)) {
        if (final) await full.abort();
        else return;
      } else {
        if (!final) this.segment = this.nextSegment();
        this.flushing.add(full);
        try {
          const m: SnapshotManifest = await full.seal();
          this.parts.push(...(m.parts ?? []));
          this.flushed = addSummaries(this.flushed, summaryOf(m));
        } catch (err) {
          this.failure ??= err as Error;
          log.error(
            { snapshotId: this.id, writer: this.writer, err: (err as Error).message },
            'segment lost',
          );
          return;
        } finally {
          this.flushing.delete(full);
        }
      }
      await this.writeRecord(dropped, final ? 'flushed' : 'open').catch((err: unknown) => {
        if (final) throw err;
        log.warn({ snapshotId: this.id, err: (err as Error).message }, 'writer record not updated');
      });
    });
    return this.chain;
  }

  async flush(dropped: Partial<DropCounts> = {}): Promise<WriterRecord> {
    clearInterval(this.timer);
    clearInterval(this.noteTimer);
    await this.roll(true, dropped);
    if (this.failure)
      throw new Error(`writer ${this.writer} of "${this.id}" lost a segment: ${this.failure.message}`);
    this.state = 'flushed';
    return this.record(dropped, 'flushed');
  }

  /** Removes every segment and the record: this replica's share never appears. */
  async abort(): Promise<void> {
    clearInterval(this.timer);
    clearInterval(this.noteTimer);
    this.state = 'aborted';
    this.segmentDone = true;
    await this.chain.catch(() => undefined);
    await this.segment.abort();
    for (const part of this.parts)
      await this.objects.delete(snapshotKey(this.id, part)).catch(() => undefined);
    await this.objects.delete(writerRecordKey(this.id, this.writer)).catch(() => undefined);
  }

  private record(dropped: Partial<DropCounts>, state: WriterRecord['state']): WriterRecord {
    const { pairs, inbound, outbound, bytes } = this.stats();
    const { service, source, filters, dlp, meta } = this.spec;
    return {
      writer: this.writer,
      snapshotId: this.id,
      state,
      createdAt: this.createdAt,
      updatedAt: new Date().toISOString(),
      spec: { service, source, filters, dlp, meta: { ...meta } },
      parts: [...this.parts],
      flushed: this.flushed,
      seen: { pairs, inbound, outbound, bytes },
      dropped: DropCountsSchema.parse(dropped),
    };
  }

  private writeRecord(dropped: Partial<DropCounts>, state: WriterRecord['state'] = 'open'): Promise<void> {
    const record = this.record(dropped, state);
    this.noted = record.seen.pairs;
    return putWriterRecord(this.objects, record);
  }
}
