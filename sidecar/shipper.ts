/**
 * Ships what the taps capture to the forwarder: a bounded buffer of tap frames
 * (src/protocols/capture/frames.ts) cut into batches, POSTed to `{forwarder}/v1/tap` every
 * flushMs or as soon as batchPairs exchanges wait, one request at a time, each batch numbered
 * (the forwarder ignores a batch it has already taken: a retry after a lost answer doubles
 * nothing), retried with capped exponential backoff. Capture fails open: an exchange that does
 * not fit is dropped whole and counted; a batch the forwarder refuses (4xx) is dropped and
 * counted. Nothing here ever waits on the proxy's path.
 */
import type { Logger } from 'pino';
import { newId } from '../src/base/new-id.js';
import { type H2Open, TAP_CONTENT_TYPE } from '../src/protocols/capture/frames.js';
import {
  CLOSE_RESERVE,
  DATA_OVERHEAD,
  type ExchangeParts,
  GAP_SIZE,
  TapWriter,
  exchangeSize,
  openSize,
  writeAbort,
  writeClose,
  writeData,
  writeExchange,
  writeGap,
  writeOpen,
} from '../src/protocols/capture/writer.js';
import type { Counters } from './stats.js';
import { TapPoster } from './tap-poster.js';

export interface ShipperOptions {
  /** Base URL of the forwarder; undefined = count the exchanges, then discard them. */
  forwarder?: string;
  service: string;
  maxBody: number;
  bufferPairs: number;
  bufferBytes: number;
  batchPairs: number;
  flushMs: number;
}

/** An HTTP/2 connection being shipped: told when the forwarder lost its state (a refused batch). */
export interface ShippedConnection {
  lost(): void;
}

/** Why a connection closed with streams open (they are recorded with it). */
type CloseError = { code: string; message: string };

/** What the taps hand their frames to (the Shipper; tests feed a decoder directly). */
export interface TapOut {
  /** False when nothing is shipped (no forwarder): taps only count. */
  readonly shipping: boolean;
  exchange(x: ExchangeParts): void;
  h2Open(open: H2Open, conn: ShippedConnection): boolean;
  h2Data(conn: number, dir: 0 | 1, t: number, bytes: Buffer, pairs: number): boolean;
  h2Gap(conn: number, dir: 0 | 1, t: number, n: number): boolean;
  h2Close(conn: ShippedConnection, id: number, t: number, pairs: number, error?: CloseError): void;
  h2Abort(conn: ShippedConnection, id: number): void;
  release(conn: ShippedConnection): void;
}

interface Batch {
  body: Buffer;
  pairs: number;
  /** Of `pairs`, HTTP/2 streams (bounded by bytes, not by --buffer-pairs). */
  h2Pairs: number;
  seq: number;
  /** Carries HTTP/2 frames: refusing it loses those connections' state on the forwarder. */
  h2: boolean;
}

const MAX_BATCH_BYTES = 4 * 1024 * 1024;
const REQUEST_TIMEOUT_MS = 10_000;
const BACKOFF_BASE_MS = 100;
const BACKOFF_MAX_MS = 5000;

export class Shipper implements TapOut {
  /** Random per process: the forwarder keeps batch numbers and connection state per sidecar. */
  readonly sidecarId = newId('sc');
  private readonly sealed: Batch[] = [];
  private writer = new TapWriter();
  private openPairs = 0;
  private openH2Pairs = 0;
  private openH2 = false;
  private sealedBytes = 0;
  private sealedPairs = 0;
  private sealedH2Pairs = 0;
  /** Bytes promised to the H2_CLOSE frames of the open HTTP/2 connections. */
  private reserved = 0;
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerDue = 0;
  private inflight: Promise<boolean> | undefined;
  private failures = 0;
  private retryAt = 0;
  private closed = false;
  private readonly poster: TapPoster | undefined;
  private readonly h2 = new Set<ShippedConnection>();

  constructor(
    private readonly opts: ShipperOptions,
    private readonly counters: Counters,
    private readonly log: Logger,
  ) {
    if (opts.forwarder) this.poster = new TapPoster(new URL(`${opts.forwarder.replace(/\/+$/, '')}/v1/tap`));
  }

  /** False when nothing is shipped (no forwarder): taps only count. */
  get shipping(): boolean {
    return this.poster !== undefined;
  }

  get bufferedPairs(): number {
    return this.sealedPairs + this.openPairs;
  }

  get bufferedBytes(): number {
    return this.sealedBytes + this.writer.size;
  }

  /** An HTTP/1.1 exchange, whole; dropped and counted when it does not fit. */
  exchange(x: ExchangeParts): void {
    this.counters.pairs++;
    if (!this.poster) return;
    if (!this.fits(exchangeSize(x), 1)) {
      this.counters.dropped++;
      return;
    }
    writeExchange(this.writer, x);
    this.added(1);
  }

  /** Starts shipping an HTTP/2 connection; false (nothing written) when it does not fit. */
  h2Open(open: H2Open, conn: ShippedConnection): boolean {
    if (!this.poster || !this.fitsH2(openSize(open) + CLOSE_RESERVE)) return false;
    writeOpen(this.writer, open);
    this.reserved += CLOSE_RESERVE;
    this.h2.add(conn);
    this.openH2 = true;
    this.added(0);
    return true;
  }

  /** Bytes of an HTTP/2 connection that complete `pairs` streams; false when they do not fit. */
  h2Data(conn: number, dir: 0 | 1, t: number, bytes: Buffer, pairs: number): boolean {
    if (!this.fitsH2(DATA_OVERHEAD + bytes.length)) return false;
    writeData(this.writer, conn, dir, t, bytes);
    this.counters.pairs += pairs;
    this.openH2 = true;
    this.openH2Pairs += pairs;
    this.added(pairs);
    return true;
  }

  h2Gap(conn: number, dir: 0 | 1, t: number, n: number): boolean {
    if (!this.fitsH2(GAP_SIZE)) return false;
    writeGap(this.writer, conn, dir, t, n);
    this.openH2 = true;
    this.added(0);
    return true;
  }

  /** The connection ended (its open streams are recorded with an error): uses its reservation. */
  h2Close(conn: ShippedConnection, id: number, t: number, pairs: number, error?: CloseError): void {
    this.release(conn);
    writeClose(this.writer, id, t, error);
    this.counters.pairs += pairs;
    this.openH2 = true;
    this.openH2Pairs += pairs;
    this.added(pairs);
  }

  /** The forwarder forgets the connection (its partial streams were counted dropped here). */
  h2Abort(conn: ShippedConnection, id: number): void {
    this.release(conn);
    writeAbort(this.writer, id);
    this.openH2 = true;
    this.added(0);
  }

  /** Forgets a connection without telling the forwarder (it has lost the connection already). */
  release(conn: ShippedConnection): void {
    if (this.h2.delete(conn)) this.reserved -= CLOSE_RESERVE;
  }

  /**
   * Stops taking frames and ships what is buffered until `deadline` (epoch ms); what is left
   * then is counted as dropped.
   */
  async drain(deadline: number): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    const expire = setTimeout(
      () => this.poster?.destroy(new Error('drain timeout')),
      Math.max(0, deadline - Date.now()),
    );
    try {
      if (this.inflight) await this.inflight;
      while (this.poster && this.bufferedBytes > 0 && Date.now() < deadline) {
        if (!(await this.send(deadline - Date.now()))) {
          const wait = Math.min(this.retryAt, deadline) - Date.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        }
      }
    } finally {
      clearTimeout(expire);
    }
    this.counters.dropped += this.bufferedPairs;
    this.sealed.length = 0;
    this.sealedBytes = this.sealedPairs = this.openPairs = this.sealedH2Pairs = this.openH2Pairs = 0;
    this.writer.take();
    this.poster?.destroy();
  }

  /** An HTTP/1.1 exchange: --buffer-pairs counts these only (a backlog of HTTP/2 streams does not crowd them out). */
  private fits(bytes: number, pairs: number): boolean {
    const h1Pairs = this.bufferedPairs - this.sealedH2Pairs - this.openH2Pairs;
    return h1Pairs + pairs <= this.opts.bufferPairs && this.fitsH2(bytes);
  }

  /**
   * HTTP/2 bytes are bounded by bytes alone: bytes that do not fit cost the connection (its
   * HPACK state cannot skip them) and every later stream on it, so a count of small streams
   * must not turn a short burst into lost connections; the bytes bound holds the memory.
   */
  private fitsH2(bytes: number): boolean {
    return !this.closed && this.bufferedBytes + this.reserved + bytes <= this.opts.bufferBytes;
  }

  private added(pairs: number): void {
    this.openPairs += pairs;
    if (this.openPairs >= this.opts.batchPairs || this.writer.size >= MAX_BATCH_BYTES) this.seal();
    this.schedule();
  }

  /** The frames written so far become the next batch. */
  private seal(): void {
    if (this.writer.size === 0) return;
    const batch = {
      body: this.writer.take(),
      pairs: this.openPairs,
      h2Pairs: this.openH2Pairs,
      seq: ++this.seq,
      h2: this.openH2,
    };
    this.sealed.push(batch);
    this.sealedBytes += batch.body.length;
    this.sealedPairs += batch.pairs;
    this.sealedH2Pairs += batch.h2Pairs;
    this.openPairs = this.openH2Pairs = 0;
    this.openH2 = false;
  }

  private schedule(): void {
    if (this.inflight || this.closed || this.bufferedBytes === 0) return;
    // Called per exchange: a pending timer already comes no later than a flush-ms wait would.
    if (this.timer && this.sealed.length === 0) return;
    const now = Date.now();
    const delay = this.sealed.length > 0 ? 0 : this.opts.flushMs;
    const due = Math.max(now + delay, this.retryAt);
    if (this.timer && this.timerDue <= due) return;
    clearTimeout(this.timer);
    this.timerDue = due;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.inflight = this.send(REQUEST_TIMEOUT_MS);
      void this.inflight.then(() => {
        this.inflight = undefined;
        this.schedule();
      });
    }, due - now);
  }

  /** POSTs the oldest batch; true when the buffer moved on. */
  private async send(timeoutMs: number): Promise<boolean> {
    if (this.sealed.length === 0) this.seal();
    const batch = this.sealed[0];
    if (!batch) return true;
    let status = 0;
    let reason = '';
    try {
      status = await this.post(batch, Math.max(1, Math.min(timeoutMs, REQUEST_TIMEOUT_MS)));
      reason = `HTTP ${status}`;
    } catch (err) {
      reason = (err as Error).message;
    }
    if (status >= 200 && status < 300) {
      if (this.failures > 0) this.log.info({ failures: this.failures }, 'forwarder reachable again');
      this.counters.shipped += batch.pairs;
      this.counters.bytes += batch.body.length;
      this.failures = 0;
      this.retryAt = 0;
      this.shift();
      return true;
    }
    this.counters.forwarderErrors++;
    if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
      // Sending it again would be refused again: drop it rather than block everything behind it.
      this.log.warn({ status, pairs: batch.pairs }, 'forwarder refused a batch; dropped');
      this.counters.dropped += batch.pairs;
      this.shift();
      // The forwarder drops every HTTP/2 connection's state when a batch is missing: so do we.
      if (batch.h2) for (const c of [...this.h2]) c.lost();
      return true;
    }
    this.failures++;
    if (this.failures === 1) this.log.warn({ reason }, 'forwarder unreachable; retrying with backoff');
    const backoff = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (this.failures - 1));
    this.retryAt = Date.now() + backoff * (0.5 + Math.random() / 2);
    return false;
  }

  private shift(): void {
    const b = this.sealed.shift()!;
    this.sealedBytes -= b.body.length;
    this.sealedPairs -= b.pairs;
    this.sealedH2Pairs -= b.h2Pairs;
  }

  private post(batch: Batch, timeoutMs: number): Promise<number> {
    return this.poster!.post(
      {
        'content-type': TAP_CONTENT_TYPE,
        'x-reprise-service': this.opts.service,
        'x-reprise-sidecar': this.sidecarId,
        'x-reprise-seq': batch.seq,
        'x-reprise-max-body': this.opts.maxBody,
        'x-reprise-sidecar-dropped': this.counters.dropped,
      },
      batch.body,
      timeoutMs,
    );
  }
}
