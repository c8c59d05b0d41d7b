/**
 * The forwarder's control API (docs/contracts.md), as both runtimes call it: open, poll, seal or
 * abort a recording. Failures are RuntimeErrors whose type says whether a retry may help.
 */
import { RuntimeError } from '../base/runtime-error.js';
import type { DlpRules } from '../dlp/rules.js';
import type { FilterRules } from '../filters/rules.js';
import type { CaptureCounts } from '../config/capture.js';
import type { SnapshotManifest } from '../model/traffic.js';

/** What opening a recording sends (the capture runtime's OpenRecordingRequest is one). */
export interface OpenRecordingBody {
  snapshotId: string;
  service: string;
  filters?: FilterRules;
  dlp?: DlpRules | false;
  meta?: Record<string, string>;
  /** Several forwarders write it: each its own share (S3 store). */
  shared?: boolean;
}

interface RecordingStatus {
  pairs: number;
  inbound: number;
  outbound: number;
  bytes: number;
  dropped: { sidecar: number; forwarder: number; filtered: number };
}

const CONTROL_TIMEOUT_MS = 10_000;
/** Sealing finishes the gzip stream and fsyncs: allow for a large snapshot. */
const SEAL_TIMEOUT_MS = 5 * 60_000;

function counts(
  c: Omit<RecordingStatus, 'dropped'> & { dropped: Partial<RecordingStatus['dropped']> },
): CaptureCounts {
  return {
    pairs: c.pairs,
    inbound: c.inbound,
    outbound: c.outbound,
    bytes: c.bytes,
    dropped: (c.dropped.sidecar ?? 0) + (c.dropped.forwarder ?? 0),
    filtered: c.dropped.filtered ?? 0,
  };
}

export class ForwarderApi {
  constructor(readonly url: string) {}

  private async call(
    method: string,
    path: string,
    opts: { body?: unknown; timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<{ status: number; body: { error?: string } & Record<string, unknown> }> {
    const timeout = AbortSignal.timeout(opts.timeoutMs ?? CONTROL_TIMEOUT_MS);
    let res: Response;
    try {
      res = await fetch(this.url + path, {
        method,
        headers: opts.body === undefined ? {} : { 'content-type': 'application/json' },
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        signal: opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout,
      });
    } catch (err) {
      throw new RuntimeError(
        `forwarder ${this.url} unreachable (${method} ${path}): ${(err as Error).message}`,
        'ForwarderUnreachable',
        true,
      );
    }
    const text = await res.text();
    let body: Record<string, unknown> = {};
    try {
      body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      body = { error: text };
    }
    return { status: res.status, body };
  }

  private fail(what: string, res: { status: number; body: { error?: string } }, type?: string): never {
    const message = `forwarder: ${what}: ${res.status} ${res.body.error ?? ''}`.trim();
    // 4xx means the request itself is wrong; retrying it cannot help. 5xx may pass.
    if (res.status >= 400 && res.status < 500) throw new RuntimeError(message, type ?? 'ForwarderRejected');
    throw new RuntimeError(message, 'ForwarderError', true);
  }

  async healthy(): Promise<boolean> {
    try {
      return (await this.call('GET', '/healthz', { timeoutMs: 2_000 })).status === 200;
    } catch {
      return false;
    }
  }

  /** 200 when already open with this id (a retried activity) counts as success. */
  async openRecording(req: OpenRecordingBody, signal: AbortSignal): Promise<void> {
    const res = await this.call('POST', '/v1/recordings', {
      body: {
        snapshotId: req.snapshotId,
        service: req.service,
        filters: req.filters,
        dlp: req.dlp,
        meta: req.meta,
        ...(req.shared ? { shared: true } : {}),
      },
      signal,
    });
    if (res.status === 200 || res.status === 201) return;
    this.fail(
      `open recording "${req.snapshotId}"`,
      res,
      res.status === 409 ? 'SnapshotExists' : 'InvalidRecording',
    );
  }

  async status(snapshotId: string, signal: AbortSignal): Promise<CaptureCounts> {
    const found = await this.statusIfKnown(snapshotId, signal);
    if (!found)
      this.fail(
        `recording "${snapshotId}"`,
        { status: 404, body: { error: 'not open here' } },
        'RecordingLost',
      );
    return found;
  }

  /** Undefined when this forwarder has no recording by that id (404): it never opened it. */
  async statusIfKnown(snapshotId: string, signal: AbortSignal): Promise<CaptureCounts | undefined> {
    const res = await this.call('GET', `/v1/recordings/${encodeURIComponent(snapshotId)}`, { signal });
    if (res.status === 404) return undefined;
    if (res.status !== 200) this.fail(`recording "${snapshotId}"`, res, 'RecordingLost');
    return counts(res.body as unknown as RecordingStatus);
  }

  /** Idempotent on the forwarder's side: a sealed recording returns its manifest again. */
  async seal(snapshotId: string, signal: AbortSignal): Promise<CaptureCounts> {
    const res = await this.call('POST', `/v1/recordings/${encodeURIComponent(snapshotId)}/seal`, {
      timeoutMs: SEAL_TIMEOUT_MS,
      signal,
    });
    if (res.status !== 200) this.fail(`seal "${snapshotId}"`, res, 'RecordingLost');
    return counts((res.body as unknown as SnapshotManifest).counts);
  }

  /**
   * Stores this forwarder's share of a shared recording (idempotent). False when the recording is
   * not open here (a replica that started after the open never took any of it).
   */
  async flush(snapshotId: string, signal: AbortSignal): Promise<boolean> {
    const res = await this.call('POST', `/v1/recordings/${encodeURIComponent(snapshotId)}/flush`, {
      timeoutMs: SEAL_TIMEOUT_MS,
      signal,
    });
    if (res.status === 200) return true;
    if (res.status === 404) return false;
    this.fail(`flush "${snapshotId}"`, res, 'RecordingLost');
  }

  /** 404 (never opened, already aborted) and 409 "already sealed" leave nothing to abort. */
  async abort(snapshotId: string, signal: AbortSignal): Promise<void> {
    const res = await this.call('DELETE', `/v1/recordings/${encodeURIComponent(snapshotId)}`, {
      timeoutMs: SEAL_TIMEOUT_MS,
      signal,
    });
    if (res.status === 204 || res.status === 404) return;
    if (res.status === 409 && /already sealed/.test(res.body.error ?? '')) return;
    this.fail(`abort "${snapshotId}"`, res);
  }
}
