/**
 * The generator's HTTP/2 connections: `connections` sessions to the target, opened on first
 * use and again after one fails, each carrying at most `streamsPerConnection` streams at once
 * (and never more than the server's SETTINGS_MAX_CONCURRENT_STREAMS). A session that could not
 * connect backs off (25 ms doubling to 1 s) before it is used again.
 */
import http2, { type ClientHttp2Session } from 'node:http2';
import { performance } from 'node:perf_hooks';

export const DEFAULT_STREAMS_PER_CONNECTION = 100;
const FIRST_BACKOFF_MS = 25;
const MAX_BACKOFF_MS = 1000;

export class PooledSession {
  session: ClientHttp2Session | undefined;
  inFlight = 0;
  /** Not used before this time (performance.now()): its last connect failed. */
  retryAt = 0;
  private backoffMs = 0;
  /** The first error of the current session (its streams end with it). */
  connectError: string | undefined;

  constructor(
    private readonly origin: string,
    private readonly maxStreams: number,
    private readonly onFree: () => void,
  ) {}

  get capacity(): number {
    const remote = this.session?.remoteSettings.maxConcurrentStreams ?? this.maxStreams;
    return Math.min(this.maxStreams, remote) - this.inFlight;
  }

  /** The open session, opened now when there is none. */
  open(): ClientHttp2Session {
    if (this.session && !this.session.closed && !this.session.destroyed) return this.session;
    const session = http2.connect(this.origin, { rejectUnauthorized: false });
    this.session = session;
    this.connectError = undefined;
    session.once('connect', () => {
      this.backoffMs = 0;
    });
    session.on('error', (err: NodeJS.ErrnoException) => {
      this.connectError ??= err.code ?? 'ECONNRESET';
    });
    session.once('close', () => {
      if (this.session === session) this.session = undefined;
      if (this.connectError === 'ECONNREFUSED') {
        this.backoffMs = Math.min(MAX_BACKOFF_MS, this.backoffMs ? this.backoffMs * 2 : FIRST_BACKOFF_MS);
        this.retryAt = performance.now() + this.backoffMs;
        setTimeout(this.onFree, this.backoffMs).unref();
      }
    });
    return session;
  }

  destroy(): void {
    this.session?.destroy();
    this.session = undefined;
  }
}
