/**
 * The data path: bytes go socket to socket with backpressure, and each chunk is handed to the
 * connection's tap by reference once it is on its way. Half-closes are passed on. When the
 * upstream cannot be reached before it answered anything, the client gets a 502 and the tap the
 * reason. Recording never decides what is forwarded.
 */
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { ConnectionTap } from './connection-tap.js';

export interface SpliceOptions {
  recorder?: ConnectionTap;
  /** The upstream's event that means it is ready (`connect`), unless it is known already: */
  readyEvent?: 'connect';
  /** ... it is connected, */
  ready?: true;
  /** ... or it failed before the splice began (the socket has errored, or closed). */
  failed?: Error;
  /** Answer an unreachable upstream with an HTTP 502 (else just close the client). */
  badGateway: boolean;
  onClose(splice: Splice): void;
}

/** How long a client that was answered 502 may take to close before it is cut. */
const FAILED_LINGER_MS = 2000;

export class Splice {
  bytesUp = 0;
  bytesDown = 0;
  private ready = false;
  private failed: NodeJS.ErrnoException | undefined;
  private answered = false;
  private closed = 0;
  readonly startedAt = performance.now();

  constructor(
    readonly client: Socket,
    readonly upstream: Socket,
    private readonly opts: SpliceOptions,
  ) {
    const rec = opts.recorder;
    client.on('data', (chunk: Buffer) => {
      this.bytesUp += chunk.length;
      if (this.failed) {
        // Recorded first, so the request is recorded with the upstream's error.
        rec?.push(0, chunk);
        this.answerFailure();
        return;
      }
      if (!upstream.write(chunk)) client.pause();
      rec?.push(0, chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      this.bytesDown += chunk.length;
      if (!client.write(chunk)) upstream.pause();
      rec?.push(1, chunk);
    });
    upstream.on('drain', () => client.resume());
    client.on('drain', () => upstream.resume());
    client.on('end', () => {
      if (!this.failed) upstream.end();
    });
    upstream.on('end', () => client.end());
    if (opts.readyEvent) upstream.once(opts.readyEvent, () => (this.ready = true));
    if (opts.ready) this.ready = true;
    upstream.on('error', (err: NodeJS.ErrnoException) => this.onUpstreamError(err));
    client.on('error', () => upstream.destroy());
    client.on('close', () => {
      upstream.destroy();
      this.onSideClosed();
    });
    upstream.on('close', () => {
      if (!this.failed) client.end();
      this.onSideClosed();
    });
    if (opts.failed) {
      this.onUpstreamError(opts.failed);
      // Its close event may have gone already: then it counts as closed now.
      if (upstream.closed) upstream.emit('close');
    }
  }

  get recorder(): ConnectionTap | undefined {
    return this.opts.recorder;
  }

  /** Ends both sides gracefully (pending writes are flushed first). */
  end(): void {
    this.client.end();
    this.upstream.end();
  }

  destroy(): void {
    this.client.destroy();
    this.upstream.destroy();
  }

  private onUpstreamError(err: NodeJS.ErrnoException): void {
    this.opts.recorder?.upstreamFailed(err);
    if (this.ready || this.bytesDown > 0 || !this.opts.badGateway) {
      this.client.destroy();
      return;
    }
    this.failed = err;
    // Answer once the client has said something, so its request is recorded with the error.
    if (this.bytesUp > 0) this.answerFailure();
    else setTimeout(() => this.answerFailure(), FAILED_LINGER_MS).unref();
  }

  private answerFailure(): void {
    if (this.answered || this.client.destroyed) return;
    this.answered = true;
    const err = this.failed!;
    const body = JSON.stringify({ error: 'upstream unreachable', code: err.code ?? 'UPSTREAM_ERROR' });
    this.client.end(
      `HTTP/1.1 502 Bad Gateway\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}` +
        `\r\nconnection: close\r\nx-reprise-sidecar: upstream-unreachable\r\n\r\n${body}`,
    );
    setTimeout(() => this.client.destroy(), FAILED_LINGER_MS).unref();
  }

  private onSideClosed(): void {
    if (++this.closed !== 2) return;
    this.opts.recorder?.finish();
    this.opts.onClose(this);
  }
}
