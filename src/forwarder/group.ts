/**
 * The forwarders of one capture, as the capture runtimes drive them: one forwarder (its own
 * seal writes the snapshot), or several replicas sharing the recording (S3 store) where each
 * writes its own share, a seal asks every replica to flush and then writes one manifest over
 * all shares (SnapshotStore.sealReplicas), counting what a replica that did not answer lost.
 */
import { RuntimeError } from '../base/runtime-error.js';
import type { CaptureCounts } from '../config/capture.js';
import type { SnapshotManifest } from '../model/traffic.js';
import type { SnapshotStore } from '../store/types.js';
import { ForwarderApi, type OpenRecordingBody } from './client.js';

/** The store keeps the spec as the forwarder's policy wrote it: the same shapes it was opened with. */
type OpenSpecFromStore = Omit<OpenRecordingBody, 'snapshotId' | 'shared'>;

export function manifestCounts(m: SnapshotManifest): CaptureCounts {
  const { pairs, inbound, outbound, bytes, dropped } = m.counts;
  return {
    pairs,
    inbound,
    outbound,
    bytes,
    dropped: dropped.sidecar + dropped.forwarder + (m.counts.lost ?? 0),
    filtered: dropped.filtered,
  };
}

export class ForwarderReplicas {
  /**
   * `urls`: the replicas as of now (a Service's ready endpoints, or local processes); `store`:
   * where the seal writes the manifest (the same store the replicas write).
   */
  constructor(
    private readonly urls: () => Promise<string[]>,
    private readonly store: SnapshotStore,
  ) {}

  private async apis(): Promise<ForwarderApi[]> {
    const urls = await this.urls();
    if (urls.length === 0)
      throw new RuntimeError('no forwarder replica is ready', 'ForwarderUnreachable', true);
    return urls.map((u) => new ForwarderApi(u));
  }

  /** Opens the recording as shared on every replica; a retry finds those already open. */
  async open(req: OpenRecordingBody, signal: AbortSignal): Promise<string[]> {
    if (!this.store.sealReplicas) {
      throw new RuntimeError(
        `forwarder replicas need the S3 store (REPRISE_STORE=s3://...); this worker's store is ${this.store.root}`,
        'InvalidInput',
      );
    }
    const apis = await this.apis();
    await Promise.all(apis.map((api) => api.openRecording({ ...req, shared: true }, signal)));
    return apis.map((a) => a.url);
  }

  /**
   * The sum over the replicas that answer (a progress poll: one that does not is skipped). A
   * replica that never heard of the recording started after it was opened (a replacement pod, a
   * scale-up): it joins here, opened with what the others recorded in the store, so what
   * sidecars send it from then on is kept (before, its batches found no recording).
   */
  async status(snapshotId: string, signal: AbortSignal): Promise<CaptureCounts> {
    const answers = await Promise.allSettled(
      (await this.apis()).map((api) => this.statusJoining(api, snapshotId, signal)),
    );
    const total: CaptureCounts = { pairs: 0, inbound: 0, outbound: 0, bytes: 0, dropped: 0, filtered: 0 };
    let answered = 0;
    for (const a of answers) {
      if (a.status !== 'fulfilled') continue;
      answered++;
      for (const k of Object.keys(total) as (keyof CaptureCounts)[]) total[k] += a.value[k];
    }
    if (answered === 0) {
      const why = answers.map((a) => (a.status === 'rejected' ? (a.reason as Error).message : '')).join('; ');
      throw new RuntimeError(`no forwarder replica answered: ${why}`, 'ForwarderUnreachable', true);
    }
    return total;
  }

  private async statusJoining(api: ForwarderApi, snapshotId: string, signal: AbortSignal) {
    const known = await api.statusIfKnown(snapshotId, signal);
    if (known) return known;
    const spec = await this.store.sharedRecordingSpec?.(snapshotId);
    if (!spec) return api.status(snapshotId, signal); // fails, naming the forwarder
    await api.openRecording({ snapshotId, ...(spec as OpenSpecFromStore), shared: true }, signal);
    return api.status(snapshotId, signal);
  }

  /** Every replica flushes its share; then one manifest over all of them. Idempotent. */
  async seal(snapshotId: string, signal: AbortSignal): Promise<SnapshotManifest> {
    const apis = await this.apis();
    const answers = await Promise.allSettled(apis.map((api) => api.flush(snapshotId, signal)));
    const unanswered = answers.flatMap((a, i) =>
      a.status === 'rejected' ? [`${apis[i].url}: ${(a.reason as Error).message}`] : [],
    );
    try {
      return await this.store.sealReplicas!(snapshotId, unanswered);
    } catch (err) {
      // Nothing to seal is final; a store that did not answer may on a retry.
      const final = (err as Error).name === 'NothingToSealError';
      throw new RuntimeError(
        `seal "${snapshotId}" over ${apis.length} forwarders: ${(err as Error).message}`,
        final ? 'RecordingLost' : 'StoreUnavailable',
        !final,
      );
    }
  }

  /** Each replica discards its share; one that is gone left only parts no manifest names. */
  async abort(snapshotId: string, signal: AbortSignal): Promise<void> {
    const apis = await this.apis().catch(() => []);
    await Promise.allSettled(apis.map((api) => api.abort(snapshotId, signal)));
  }
}
