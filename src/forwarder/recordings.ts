/** The recordings this forwarder knows: open ones (routing by service) and recently sealed ones. */
import type { DlpRules } from '../dlp/index.js';
import type { FilterRules } from '../filters/index.js';
import type { SnapshotManifest } from '../model/traffic.js';
import type { SnapshotStore } from '../store/types.js';
import { HttpError } from './http-error.js';
import type { PolicyCache } from './policy.js';
import { Recording, statusFromManifest, type RecordingStatus } from './recording.js';
import type { SidecarDrops } from './sidecar-drops.js';

export interface OpenSpec {
  snapshotId: string;
  service: string;
  filters?: FilterRules;
  dlp?: DlpRules | false;
  meta?: Record<string, string>;
  /** Several forwarders write this recording: this one writes its own share (S3 store only). */
  shared?: boolean;
}

/** What a shared recording's flush returns (the store's writer record). */
interface FlushedShare {
  writer: string;
  seen: { pairs: number; inbound: number; outbound: number; bytes: number };
  dropped: RecordingStatus['dropped'];
}

/** Sealed manifests kept in memory for idempotent seals; older ones are read from the store. */
const SEALED_KEPT = 1000;

export class Recordings {
  private readonly open = new Map<string, Recording>();
  private readonly opening = new Map<string, Promise<Recording>>();
  private readonly sealed = new Map<string, SnapshotManifest>();
  /** Why recordings whose seal failed were lost (the store refused them), for later asks. */
  private readonly lost = new Map<string, string>();
  /** Shares of shared recordings this forwarder flushed, for idempotent flushes. */
  private readonly flushed = new Map<string, FlushedShare>();
  private routeCache = new Map<string, Recording[]>();

  constructor(
    private readonly store: SnapshotStore,
    private readonly policies: PolicyCache,
    private readonly defaults: { filters: FilterRules; dlp: DlpRules | false },
    private readonly sidecarDrops: SidecarDrops,
    /** This forwarder's name in the parts it writes of shared recordings. */
    private readonly writerName: string,
  ) {}

  get openCount(): number {
    return this.open.size;
  }

  /** Open recordings taking pairs of `service` (exact, or `*`). */
  route(service: string): Recording[] {
    let r = this.routeCache.get(service);
    if (r === undefined) {
      r = [...this.open.values()].filter((rec) => rec.state === 'open' && rec.routes(service));
      if (this.routeCache.size < 10_000) this.routeCache.set(service, r);
    }
    return r;
  }

  /** `created` is false when a recording with this id was already open (same service). */
  async openRecording(spec: OpenSpec): Promise<{ recording: Recording; created: boolean }> {
    const existing = this.open.get(spec.snapshotId) ?? (await this.opening.get(spec.snapshotId));
    if (existing) {
      if (existing.service !== spec.service) {
        throw new HttpError(409, `recording "${spec.snapshotId}" is open for service "${existing.service}"`);
      }
      if (existing.state !== 'open')
        throw new HttpError(409, `recording "${spec.snapshotId}" is being closed`);
      return { recording: existing, created: false };
    }
    const pending = this.create(spec);
    this.opening.set(spec.snapshotId, pending);
    try {
      return { recording: await pending, created: true };
    } finally {
      this.opening.delete(spec.snapshotId);
    }
  }

  private async create(spec: OpenSpec): Promise<Recording> {
    if (this.sealed.has(spec.snapshotId) || (await this.store.exists(spec.snapshotId))) {
      throw new HttpError(409, `snapshot "${spec.snapshotId}" already exists`);
    }
    // A shared recording this writer already flushed (or failed to) is closed here for good:
    // opening it again would start its writer record afresh and lose the parts it names.
    if (spec.shared && (this.flushed.has(spec.snapshotId) || this.lost.has(spec.snapshotId))) {
      throw new HttpError(
        409,
        `recording "${spec.snapshotId}" was already closed on writer ${this.writerName}`,
      );
    }
    if (spec.shared && !this.store.createReplicaWriter) {
      throw new HttpError(
        400,
        `shared: recordings written by several forwarders need the S3 store (REPRISE_STORE=s3://...); this forwarder writes ${this.store.root}`,
      );
    }
    const policy = this.policies.get(spec.filters ?? this.defaults.filters, spec.dlp ?? this.defaults.dlp);
    // Taken before the writer exists: drops reported from now on are this recording's.
    const baseline = this.sidecarDrops.baseline();
    const snapshot = {
      id: spec.snapshotId,
      service: spec.service,
      source: 'capture' as const,
      filters: policy.filterRules,
      dlp: policy.dlpRules,
      meta: spec.meta,
    };
    const writer = spec.shared
      ? await this.store.createReplicaWriter!(snapshot, this.writerName)
      : await this.store.createWriter(snapshot);
    const rec = new Recording(spec.snapshotId, spec.service, policy, writer, this.sidecarDrops, baseline);
    this.open.set(rec.id, rec);
    this.routeCache.clear();
    return rec;
  }

  async status(id: string): Promise<RecordingStatus> {
    const rec = this.open.get(id);
    if (rec) return rec.status();
    const share = this.flushed.get(id);
    if (share) return { snapshotId: id, state: 'sealed', ...share.seen, dropped: share.dropped };
    return statusFromManifest(await this.sealedManifest(id));
  }

  /** A seal the store refused is final (410, saying what was lost): the writer cannot resume. */
  async seal(id: string): Promise<SnapshotManifest> {
    const rec = this.open.get(id);
    if (!rec) {
      const lost = this.lost.get(id);
      if (lost !== undefined) throw new HttpError(410, lost);
      return this.sealedManifest(id);
    }
    if (rec.aborting) throw new HttpError(409, `recording "${id}" is being aborted`);
    if (rec.shared) return rec.seal(); // refused, naming the flush
    this.stopRouting(rec);
    try {
      const manifest = await rec.seal();
      this.remember(manifest);
      return manifest;
    } catch (err) {
      const why = (err as Error).message;
      if (this.lost.size >= SEALED_KEPT) this.lost.delete(this.lost.keys().next().value!);
      this.lost.set(id, why);
      throw new HttpError(410, why);
    } finally {
      this.open.delete(id);
    }
  }

  /**
   * Stores this forwarder's share of a shared recording and stops taking its pairs; the capture
   * then seals the snapshot over every forwarder's share. Idempotent.
   */
  async flush(id: string): Promise<FlushedShare> {
    const done = this.flushed.get(id);
    if (done) return done;
    const rec = this.open.get(id);
    if (!rec) throw new HttpError(404, `no open recording "${id}" on writer ${this.writerName}`);
    if (rec.aborting) throw new HttpError(409, `recording "${id}" is being aborted`);
    if (!rec.shared) await rec.flush(); // refused, naming the seal
    this.stopRouting(rec);
    try {
      const share = (await rec.flush()) as FlushedShare;
      if (this.flushed.size >= SEALED_KEPT) this.flushed.delete(this.flushed.keys().next().value!);
      this.flushed.set(id, share);
      return share;
    } catch (err) {
      const why = `writer ${this.writerName}: ${(err as Error).message}`;
      if (this.lost.size >= SEALED_KEPT) this.lost.delete(this.lost.keys().next().value!);
      this.lost.set(id, why);
      throw new HttpError(410, why);
    } finally {
      this.open.delete(id);
    }
  }

  /** Discards an open recording; the snapshot never appears. */
  async abort(id: string): Promise<void> {
    const rec = this.open.get(id);
    if (!rec) {
      // Lost at its seal: its writer already discarded what it could; nothing is open.
      const lost = this.lost.get(id);
      if (lost !== undefined) throw new HttpError(404, `no open recording "${id}" (lost: ${lost})`);
      if (this.sealed.has(id) || (await this.store.exists(id))) {
        throw new HttpError(409, `snapshot "${id}" is already sealed; remove it from the store instead`);
      }
      throw new HttpError(404, `no open recording "${id}"`);
    }
    if (rec.state === 'closing') throw new HttpError(409, `recording "${id}" is being sealed`);
    this.stopRouting(rec);
    try {
      await rec.abort();
    } finally {
      this.open.delete(id);
    }
  }

  /**
   * On shutdown: a recording never sealed must not look complete. Returns the aborted ids. A
   * shared one is flushed instead: this forwarder's share is kept, the others write on.
   */
  async abortAll(): Promise<string[]> {
    const open = [...this.open.values()].filter((r) => r.state === 'open');
    await Promise.allSettled(open.filter((r) => r.shared).map((r) => this.flush(r.id)));
    const ids = open.filter((r) => !r.shared).map((r) => r.id);
    await Promise.allSettled(ids.map((id) => this.abort(id)));
    return ids;
  }

  private stopRouting(rec: Recording): void {
    rec.state = 'closing';
    this.routeCache.clear();
  }

  private remember(manifest: SnapshotManifest): void {
    if (this.sealed.size >= SEALED_KEPT) this.sealed.delete(this.sealed.keys().next().value!);
    this.sealed.set(manifest.id, manifest);
  }

  private async sealedManifest(id: string): Promise<SnapshotManifest> {
    const m = this.sealed.get(id);
    if (m) return m;
    if (await this.store.exists(id)) return this.store.getManifest(id);
    throw new HttpError(404, `no recording "${id}"`);
  }
}
