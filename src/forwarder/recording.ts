/** One recording: the writer of a snapshot being captured, what it keeps, and what it lost. */
import type { RRPair, SnapshotManifest } from '../model/traffic.js';
import type { TallySummary } from '../store/tally.js';
import type { ReplicaPartWriter, SnapshotWriter } from '../store/types.js';
import { HttpError } from './http-error.js';
import type { Policy } from './policy.js';
import type { SidecarDrops } from './sidecar-drops.js';

export interface RecordingStatus {
  snapshotId: string;
  state: 'open' | 'sealed';
  pairs: number;
  inbound: number;
  outbound: number;
  bytes: number;
  dropped: { sidecar: number; forwarder: number; filtered: number };
}

export function statusFromManifest(m: SnapshotManifest): RecordingStatus {
  const { pairs, inbound, outbound, bytes, dropped } = m.counts;
  return { snapshotId: m.id, state: 'sealed', pairs, inbound, outbound, bytes, dropped: { ...dropped } };
}

export class Recording {
  /** `closing`: sealing or aborting; no new pair is routed here any more. */
  state: 'open' | 'closing' | 'sealed' | 'aborted' = 'open';
  filtered = 0;
  forwarderDropped = 0;
  aborting = false;
  private inflight = 0;
  private drainWaiters: (() => void)[] = [];
  private sealed?: Promise<SnapshotManifest>;
  private flushed?: Promise<object>;

  constructor(
    readonly id: string,
    readonly service: string,
    readonly policy: Policy,
    /** A ReplicaPartWriter when several forwarders share the recording (flushed, never sealed here). */
    private readonly writer: SnapshotWriter | ReplicaPartWriter,
    private readonly sidecarDrops: SidecarDrops,
    private readonly sidecarBaseline: Map<string, number>,
  ) {}

  routes(service: string): boolean {
    return this.service === '*' || this.service === service;
  }

  /**
   * Undefined when the writer took the pair at once; otherwise a promise the batch awaits
   * before it reads on (backpressure), which seal() waits for too. `line`: the pair's JSON text.
   */
  append(pair: RRPair, line?: string): Promise<void> | undefined {
    return this.track(this.writer.append(pair, line));
  }

  /** Lines an ingest lane encoded (with what they hold), as append() takes one pair. */
  appendLines(lines: Buffer, tally: TallySummary): Promise<void> | undefined {
    return this.track(this.writer.appendLines(lines, tally));
  }

  /**
   * Holds seal and abort back until the returned release is called (once): a batch routed here before
   * the seal is stored before the snapshot is, though it is still being decoded elsewhere.
   */
  hold(): () => void {
    this.inflight++;
    return () => this.release();
  }

  private track(pending: Promise<void> | undefined): Promise<void> | undefined {
    if (!pending) return undefined;
    this.inflight++;
    return pending.finally(() => this.release());
  }

  private release(): void {
    if (--this.inflight === 0) for (const w of this.drainWaiters.splice(0)) w();
  }

  status(): RecordingStatus {
    const { pairs, inbound, outbound, bytes } = this.writer.stats();
    return { snapshotId: this.id, state: 'open', pairs, inbound, outbound, bytes, dropped: this.dropped() };
  }

  /** Shared by several forwarders: each flushes its share, the capture's seal writes the manifest. */
  get shared(): boolean {
    return !('seal' in this.writer);
  }

  /** Idempotent; the caller has already stopped routing pairs here. */
  seal(): Promise<SnapshotManifest> {
    const writer = this.writer;
    if (!('seal' in writer)) {
      return Promise.reject(
        new HttpError(
          409,
          `recording "${this.id}" is shared by several forwarders: flush it on each, then seal it over all`,
        ),
      );
    }
    this.sealed ??= this.closeWith(() => writer.seal(this.dropped()));
    return this.sealed;
  }

  /** A shared recording's share: everything taken is stored, and its record says so. Idempotent. */
  flush(): Promise<object> {
    const writer = this.writer;
    if ('seal' in writer)
      return Promise.reject(new HttpError(409, `recording "${this.id}" is not shared; seal it instead`));
    this.flushed ??= this.closeWith(() => writer.flush(this.dropped()));
    return this.flushed;
  }

  /** Stops taking pairs, waits for those in flight, then stores what was taken. */
  private closeWith<T>(store: () => Promise<T>): Promise<T> {
    this.state = 'closing';
    return this.drained().then(async () => {
      const done = await store();
      this.state = 'sealed';
      return done;
    });
  }

  async abort(): Promise<void> {
    this.state = 'closing';
    this.aborting = true;
    await this.drained();
    await this.writer.abort();
    this.state = 'aborted';
  }

  private dropped(): RecordingStatus['dropped'] {
    const sidecar = this.sidecarDrops.since(this.sidecarBaseline, (s) => this.routes(s));
    return { sidecar, forwarder: this.forwarderDropped, filtered: this.filtered };
  }

  private drained(): Promise<void> {
    if (this.inflight === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }
}
