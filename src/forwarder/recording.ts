/** One recording: the writer of a snapshot being captured, what it keeps, and what it lost. */
import type { RRPair, SnapshotManifest } from '../model/traffic.js';
import type { SnapshotWriter } from '../store/types.js';
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

  constructor(
    readonly id: string,
    readonly service: string,
    readonly policy: Policy,
    private readonly writer: SnapshotWriter,
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
    const pending = this.writer.append(pair, line);
    if (!pending) return undefined;
    this.inflight++;
    return pending.finally(() => {
      if (--this.inflight === 0) for (const w of this.drainWaiters.splice(0)) w();
    });
  }

  status(): RecordingStatus {
    const { pairs, inbound, outbound, bytes } = this.writer.stats();
    return { snapshotId: this.id, state: 'open', pairs, inbound, outbound, bytes, dropped: this.dropped() };
  }

  /** Idempotent; the caller has already stopped routing pairs here. */
  seal(): Promise<SnapshotManifest> {
    this.state = 'closing';
    this.sealed ??= this.drained().then(async () => {
      const manifest = await this.writer.seal(this.dropped());
      this.state = 'sealed';
      return manifest;
    });
    return this.sealed;
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
