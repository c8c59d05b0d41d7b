/**
 * The generator's HTTP/2 connections: `connections` of them to the target, opened on first use
 * and again after one fails or is told to go away, each carrying at most `streamsPerConnection`
 * streams at once (and never more than the server's SETTINGS_MAX_CONCURRENT_STREAMS). A
 * connection that could not connect backs off (25 ms doubling to 1 s) before it is used again.
 */
import { performance } from 'node:perf_hooks';
import { H2ClientConnection, type H2Target } from './client-connection.js';

export const DEFAULT_STREAMS_PER_CONNECTION = 100;
const FIRST_BACKOFF_MS = 25;
const MAX_BACKOFF_MS = 1000;

export class PooledSession {
  conn: H2ClientConnection | undefined;
  /** Streams open on this slot's connections (one going away may still finish some). */
  inFlight = 0;
  /** Not used before this time (performance.now()): its last connect failed. */
  retryAt = 0;
  private backoffMs = 0;
  /** Every connection this slot opened that has not closed yet. */
  private readonly live = new Set<H2ClientConnection>();

  constructor(
    private readonly target: H2Target,
    private readonly maxStreams: number,
    private readonly onFree: () => void,
  ) {}

  /**
   * Streams this slot may open now. Until the server's SETTINGS arrive one stream goes out (it
   * opens the connection): a server allowing fewer streams would refuse the rest.
   */
  get capacity(): number {
    const conn = this.conn?.usable ? this.conn : undefined;
    if (conn && !conn.settled) return conn.inFlight === 0 ? 1 : 0;
    return Math.min(this.maxStreams, conn?.peerMaxStreams ?? this.maxStreams) - this.inFlight;
  }

  /** The usable connection, opened now when there is none. */
  open(): H2ClientConnection {
    if (this.conn?.usable) return this.conn;
    const conn = new H2ClientConnection(this.target, (c) => this.closed(c), this.onFree);
    this.conn = conn;
    this.live.add(conn);
    return conn;
  }

  destroy(): void {
    for (const c of this.live) c.destroy();
    this.conn = undefined;
  }

  private closed(conn: H2ClientConnection): void {
    this.live.delete(conn);
    if (this.conn === conn) this.conn = undefined;
    if (conn.error !== 'ECONNREFUSED') {
      this.backoffMs = 0;
      return;
    }
    this.backoffMs = Math.min(MAX_BACKOFF_MS, this.backoffMs ? this.backoffMs * 2 : FIRST_BACKOFF_MS);
    this.retryAt = performance.now() + this.backoffMs;
    setTimeout(this.onFree, this.backoffMs).unref();
  }
}
