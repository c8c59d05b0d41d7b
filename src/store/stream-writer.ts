/**
 * The part of a snapshot writer that does not care where the bytes go: NDJSON lines batched
 * through gzip into a sink (a file, a multipart upload), the counts, and the open -> sealed |
 * aborted life cycle. A backend says how to publish the manifest and how to discard.
 */
import { once } from 'node:events';
import { constants as zlibConstants, createGzip, type Gzip } from 'node:zlib';
import type { DropCounts, RRPair, SnapshotManifest } from '../model/traffic.js';
import type { NewSnapshot, SnapshotWriter, WriterStats } from './types.js';
import { SnapshotExistsError } from './errors.js';
import { SnapshotTally, type TallySummary } from './tally.js';

/** Encoded lines are handed to gzip once this many bytes wait: one zlib call per ~64 KiB. */
const BATCH_BYTES = 64 * 1024;
/** Room for a batch plus a line of up to ~64 K UTF-16 units at 3 bytes each (longer ones go alone). */
const BUFFER_BYTES = 4 * BATCH_BYTES;

type State = 'open' | 'sealing' | 'sealed' | 'aborted' | 'failed';

/**
 * Pipes the gzip stream where the backend keeps it; settles once everything is stored, rejects
 * on a write error (disk full, upload refused).
 */
export type TrafficSink = (gzip: Gzip) => Promise<void>;

export abstract class StreamingSnapshotWriter implements SnapshotWriter {
  private state: State = 'open';
  protected readonly tally = new SnapshotTally();
  private readonly gzip: Gzip;
  private readonly stored: Promise<void>;
  private drain?: Promise<void>;
  /**
   * Lines not yet handed to gzip, encoded as they come: a line's string dies at once (young,
   * cheap to collect) and its UTF-8 length is what encoding it returned.
   */
  private readonly buf = Buffer.allocUnsafe(BUFFER_BYTES);
  private used = 0;
  private sealing?: Promise<SnapshotManifest>;
  private aborting?: Promise<void>;
  private failure?: Error;

  protected constructor(
    readonly id: string,
    protected readonly spec: NewSnapshot,
    sink: TrafficSink,
  ) {
    // Fastest level: the store sits behind live capture, CPU matters more than bytes here.
    this.gzip = createGzip({ level: zlibConstants.Z_BEST_SPEED });
    this.stored = sink(this.gzip);
    // Observed through append/seal; never an unhandled rejection.
    this.stored.catch((err: unknown) => (this.failure ??= err as Error));
  }

  /** Fails when the snapshot cannot be published (its id is taken); checked before the stream ends. */
  protected abstract checkPublishable(): Promise<void>;
  /** Makes the snapshot visible: the traffic is stored; the manifest goes last. */
  protected abstract publish(manifest: SnapshotManifest): Promise<void>;
  /** Removes whatever this writer stored. */
  protected abstract discard(): Promise<void>;
  /** The manifest's `parts`, when not the single default traffic file. */
  protected parts(): string[] | undefined {
    return undefined;
  }

  /**
   * Synchronous unless gzip asks the writer to wait (then a promise for the drain): a batch of
   * pairs costs no microtask per pair. `line` is the pair's JSON when the caller already has it
   * (the forwarder passes an ingested line through untouched), saving a JSON.stringify.
   */
  append(pair: RRPair, line?: string): Promise<void> | undefined {
    const refused = this.refusal();
    if (refused) return refused;
    const json = line ?? JSON.stringify(pair);
    // The most bytes the line can take: 3 per UTF-16 unit, and the newline.
    const room = json.length * 3 + 1;
    let ready = true;
    if (this.used + room > BUFFER_BYTES) ready = this.flush();
    let bytes: number;
    if (room > BUFFER_BYTES) {
      const text = Buffer.from(json + '\n');
      bytes = text.length;
      ready = this.gzip.write(text) && ready;
    } else {
      bytes = this.buf.write(json, this.used) + 1;
      this.buf[this.used + bytes - 1] = 0x0a;
      this.used += bytes;
      if (this.used >= BATCH_BYTES) ready = this.flush() && ready;
    }
    this.tally.add(pair, bytes);
    return ready ? undefined : this.waitDrain();
  }

  appendLines(lines: Buffer, tally: TallySummary): Promise<void> | undefined {
    const refused = this.refusal();
    if (refused) return refused;
    let ready = true;
    if (lines.length <= BATCH_BYTES) {
      // Small batches join the pending lines: gzip still gets ~64 KiB per call.
      if (this.used + lines.length > BUFFER_BYTES) ready = this.flush();
      lines.copy(this.buf, this.used);
      this.used += lines.length;
      if (this.used >= BATCH_BYTES) ready = this.flush() && ready;
    } else {
      ready = this.flush();
      ready = this.gzip.write(lines) && ready;
    }
    this.tally.merge(tally);
    return ready ? undefined : this.waitDrain();
  }

  /** Why nothing more can be appended, as a rejected promise; undefined while open. */
  private refusal(): Promise<never> | undefined {
    if (this.state !== 'open')
      return Promise.reject(new Error(`snapshot writer "${this.id}" is ${this.state}; cannot append`));
    if (this.failure)
      return Promise.reject(new Error(`snapshot writer "${this.id}" failed: ${this.failure.message}`));
    return undefined;
  }

  stats(): WriterStats {
    return this.tally.stats();
  }

  seal(dropped: Partial<DropCounts> = {}): Promise<SnapshotManifest> {
    if (this.sealing) return this.sealing;
    if (this.state !== 'open')
      return Promise.reject(new Error(`snapshot writer "${this.id}" is ${this.state}`));
    this.state = 'sealing';
    this.sealing = this.finish(dropped).then(
      (m) => {
        this.state = 'sealed';
        return m;
      },
      async (err: unknown) => {
        // The gzip stream is ended: a retry cannot succeed, so leave nothing behind.
        this.state = 'failed';
        this.gzip.destroy();
        await this.stored.catch(() => undefined);
        await this.discard().catch(() => undefined);
        if (err instanceof SnapshotExistsError) throw err;
        // The loss is counted where the failure is reported (the capture's error).
        throw new Error(
          `snapshot "${this.id}" was not sealed, its ${this.tally.stats().pairs} pairs are lost: ${(err as Error).message}`,
          { cause: err },
        );
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
      await this.stored.catch(() => {});
      await this.discard();
    })();
    return this.aborting;
  }

  private async finish(dropped: Partial<DropCounts>): Promise<SnapshotManifest> {
    // Checked first so a clash fails before any work; publish() checks again.
    await this.checkPublishable();
    this.flush();
    this.gzip.end();
    await this.stored;
    const manifest = this.tally.manifest(this.id, this.spec, dropped, this.parts());
    await this.publish(manifest);
    return manifest;
  }

  /** Hands the batched lines to gzip; false when gzip asks the writer to wait for 'drain'. */
  private flush(): boolean {
    if (this.used === 0) return true;
    // gzip reads the chunk later, so it gets a copy of just the used bytes; the buffer is reused.
    const chunk = Buffer.allocUnsafe(this.used);
    this.buf.copy(chunk, 0, 0, this.used);
    this.used = 0;
    return this.gzip.write(chunk);
  }

  /** One shared wait per drain, so many concurrent appends do not pile listeners on the stream. */
  private waitDrain(): Promise<void> {
    this.drain ??= Promise.race([
      once(this.gzip, 'drain').then(() => undefined),
      // After end() no 'drain' comes: a pair written before seal() is accepted once the file is.
      this.stored.then(() => {
        if (this.state === 'open')
          throw new Error(`snapshot writer "${this.id}": stream closed while appending`);
      }),
    ]).finally(() => {
      this.drain = undefined;
    });
    return this.drain;
  }
}
