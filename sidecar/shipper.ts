/**
 * Ships recorded pairs to the forwarder: a bounded buffer of NDJSON lines, batches POSTed to
 * `{forwarder}/v1/pairs` every flushMs or as soon as batchPairs wait, one request at a time,
 * retried with capped exponential backoff. Capture fails open: when the buffer is full the NEW
 * pair is dropped and counted (what is buffered is an unbroken stretch of the recording, and
 * dropping costs nothing); a batch the forwarder refuses outright (4xx) is dropped and counted
 * too. Nothing here ever waits on the proxy's path.
 */
import http from 'node:http';
import https from 'node:https';
import type { Logger } from 'pino';
import type { RRPair } from '../src/model/traffic.js';
import type { Counters } from './stats.js';

export interface ShipperOptions {
  /** Base URL of the forwarder; undefined = count the pairs, then discard them. */
  forwarder?: string;
  service: string;
  bufferPairs: number;
  bufferBytes: number;
  batchPairs: number;
  flushMs: number;
}

const MAX_BATCH_BYTES = 8 * 1024 * 1024;
const REQUEST_TIMEOUT_MS = 10_000;
const BACKOFF_BASE_MS = 100;
const BACKOFF_MAX_MS = 5000;

export class Shipper {
  private lines: string[] = [];
  private sizes: number[] = [];
  private start = 0;
  private bytesBuffered = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerDue = 0;
  private inflight: Promise<boolean> | undefined;
  private current: http.ClientRequest | undefined;
  private failures = 0;
  private retryAt = 0;
  private closed = false;
  private readonly url: URL | undefined;
  private readonly agent: http.Agent | undefined;

  constructor(
    private readonly opts: ShipperOptions,
    private readonly counters: Counters,
    private readonly log: Logger,
  ) {
    if (opts.forwarder) {
      this.url = new URL(`${opts.forwarder.replace(/\/+$/, '')}/v1/pairs`);
      const Agent = this.url.protocol === 'https:' ? https.Agent : http.Agent;
      this.agent = new Agent({ keepAlive: true, maxSockets: 1 });
    }
  }

  get bufferedPairs(): number {
    return this.lines.length - this.start;
  }

  get bufferedBytes(): number {
    return this.bytesBuffered;
  }

  offer(pair: RRPair): void {
    this.counters.pairs++;
    if (!this.url) return;
    const line = JSON.stringify(pair);
    const size = Buffer.byteLength(line) + 1;
    if (
      this.closed ||
      this.bufferedPairs >= this.opts.bufferPairs ||
      this.bytesBuffered + size > this.opts.bufferBytes
    ) {
      this.counters.dropped++;
      return;
    }
    this.lines.push(line);
    this.sizes.push(size);
    this.bytesBuffered += size;
    this.schedule();
  }

  /**
   * Stops taking pairs and ships what is buffered until `deadline` (epoch ms); what is left
   * then is counted as dropped.
   */
  async drain(deadline: number): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    const expire = setTimeout(
      () => this.current?.destroy(new Error('drain timeout')),
      Math.max(0, deadline - Date.now()),
    );
    try {
      if (this.inflight) await this.inflight;
      while (this.url && this.bufferedPairs > 0 && Date.now() < deadline) {
        if (!(await this.send(deadline - Date.now()))) {
          const wait = Math.min(this.retryAt, deadline) - Date.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        }
      }
    } finally {
      clearTimeout(expire);
    }
    this.counters.dropped += this.bufferedPairs;
    this.remove(this.bufferedPairs);
    this.agent?.destroy();
  }

  private schedule(): void {
    if (this.inflight || this.closed || this.bufferedPairs === 0) return;
    const now = Date.now();
    const delay = this.bufferedPairs >= this.opts.batchPairs ? 0 : this.opts.flushMs;
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

  /** POSTs one batch from the head of the buffer; true when the buffer moved on. */
  private async send(timeoutMs: number): Promise<boolean> {
    let n = 0;
    let bytes = 0;
    const max = Math.min(this.bufferedPairs, this.opts.batchPairs);
    while (n < max && (n === 0 || bytes + this.sizes[this.start + n] <= MAX_BATCH_BYTES)) {
      bytes += this.sizes[this.start + n++];
    }
    const body = this.lines.slice(this.start, this.start + n).join('\n') + '\n';
    let status = 0;
    let reason = '';
    try {
      status = await this.post(body, Math.max(1, Math.min(timeoutMs, REQUEST_TIMEOUT_MS)));
      reason = `HTTP ${status}`;
    } catch (err) {
      reason = (err as Error).message;
    }
    if (status >= 200 && status < 300) {
      if (this.failures > 0) this.log.info({ failures: this.failures }, 'forwarder reachable again');
      this.counters.shipped += n;
      this.counters.bytes += bytes;
      this.failures = 0;
      this.retryAt = 0;
      this.remove(n);
      return true;
    }
    this.counters.forwarderErrors++;
    if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
      // Sending it again would be refused again: drop it rather than block everything behind it.
      this.log.warn({ status, pairs: n }, 'forwarder refused a batch; dropped');
      this.counters.dropped += n;
      this.remove(n);
      return true;
    }
    this.failures++;
    if (this.failures === 1) this.log.warn({ reason }, 'forwarder unreachable; retrying with backoff');
    const backoff = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (this.failures - 1));
    this.retryAt = Date.now() + backoff * (0.5 + Math.random() / 2);
    return false;
  }

  private post(body: string, timeoutMs: number): Promise<number> {
    const url = this.url!;
    return new Promise((resolve, reject) => {
      const req = (url.protocol === 'https:' ? https : http).request(url, {
        method: 'POST',
        agent: this.agent,
        timeout: timeoutMs,
        headers: {
          'content-type': 'application/x-ndjson',
          'content-length': Buffer.byteLength(body),
          'x-reprise-service': this.opts.service,
          'x-reprise-sidecar-dropped': String(this.counters.dropped),
        },
      });
      this.current = req;
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', (err) => {
        this.current = undefined;
        reject(err);
      });
      req.on('response', (res) => {
        res.resume();
        res.on('end', () => {
          this.current = undefined;
          resolve(res.statusCode ?? 0);
        });
        res.on('error', reject);
      });
      req.end(body);
    });
  }

  private remove(n: number): void {
    for (let i = 0; i < n; i++) this.bytesBuffered -= this.sizes[this.start + i];
    this.start += n;
    // Compact now and then so the arrays do not grow forever.
    if (this.start > 1024 && this.start * 2 > this.lines.length) {
      this.lines = this.lines.slice(this.start);
      this.sizes = this.sizes.slice(this.start);
      this.start = 0;
    }
    if (this.bufferedPairs === 0) {
      this.lines = [];
      this.sizes = [];
      this.start = 0;
    }
  }
}
