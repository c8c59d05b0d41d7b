/**
 * One keep-alive HTTP/1.1 connection to the target with at most one request in flight. HTTP/1.1
 * answers in order on a connection, so the response that completes belongs to the request
 * this connection sent: that is how an observed response finds its recorded pair, with
 * nothing added to the request. The socket is opened on the first send and again after the
 * target closes it. A plain TCP socket reads into one buffer shared by every connection
 * (`onread`: no stream machinery and no allocation per read); what a response keeps past the
 * read that brought it is copied out.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import type { HeaderList } from '../model/traffic.js';
import type { PlannedRequest } from './request-plan.js';
import { ResponseParser, type ResponseHandler } from './response-parser.js';

export interface ConnectionTarget {
  host: string;
  port: number;
  tls: boolean;
}

export interface ReceivedResponse {
  status: number;
  headers: HeaderList;
  contentEncoding: string | undefined;
  /** The first body bytes, at most the keep limit. */
  chunks: Buffer[];
  /** Chunks before this index are the response's own copies; later ones may view a read buffer. */
  owned: number;
  kept: number;
  /** Body bytes received in all. */
  size: number;
}

export interface ConnectionOwner {
  /** The request in flight ended: a response, or an error kind (`timeout`, `ECONNREFUSED`, ...). */
  completed(conn: Connection, response: ReceivedResponse | undefined, error: string | undefined): void;
}

const MAX_BACKOFF_MS = 1000;
/** Reads land here, one socket at a time (the callbacks run on this thread, one after another). */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

export class Connection implements ResponseHandler {
  busy = false;
  /** What the owner sent: the planned request, its pass and performance.now() at send. */
  request: PlannedRequest | undefined;
  pass = 0;
  sentAt = 0;
  /** performance.now() before which a new connect must not start (after failed connects). */
  retryAt = 0;

  private socket: net.Socket | undefined;
  /** Whether the current socket has carried a whole response. */
  private answered = false;
  /** Sockets in a row that the target refused or ended before any response. */
  private failedSockets = 0;
  private readonly parser = new ResponseParser(this);
  private response: ReceivedResponse | undefined;

  constructor(
    private readonly target: ConnectionTarget,
    private readonly owner: ConnectionOwner,
    private readonly timeoutMs: number,
    /** Body bytes kept per response; the rest are counted only. */
    private readonly keepBytes: number,
  ) {}

  send(bytes: Buffer, noBody: boolean): void {
    this.busy = true;
    this.response = undefined;
    const socket = this.socket ?? this.open();
    this.parser.expect(noBody);
    this.sentAt = performance.now();
    socket.write(bytes);
  }

  /**
   * Ends the request in flight as a `timeout` once it is past its deadline. The owner calls this
   * from one sweep over all connections: re-arming a timer per request cost more than the parse.
   */
  expire(now: number): void {
    if (this.busy && now - this.sentAt >= this.timeoutMs) this.fail('timeout');
  }

  /** Closes the socket; a request in flight is dropped without a callback. */
  destroy(): void {
    this.busy = false;
    this.drop();
  }

  onHead(status: number, headers: HeaderList, contentEncoding: string | undefined): void {
    this.response = { status, headers, contentEncoding, chunks: [], owned: 0, kept: 0, size: 0 };
  }

  onBody(chunk: Buffer): void {
    const r = this.response!;
    r.size += chunk.length;
    if (r.kept >= this.keepBytes) return;
    const part = r.kept + chunk.length > this.keepBytes ? chunk.subarray(0, this.keepBytes - r.kept) : chunk;
    r.chunks.push(part);
    r.kept += part.length;
  }

  onComplete(keepAlive: boolean): void {
    this.answered = true;
    this.failedSockets = 0;
    if (!keepAlive) this.drop();
    const response = this.response;
    this.response = undefined;
    this.busy = false;
    this.owner.completed(this, response, response ? undefined : 'bad-response');
  }

  private open(): net.Socket {
    const { host, port } = this.target;
    const onData = (socket: net.Socket, chunk: Buffer) => {
      if (socket !== this.socket) return;
      const error = this.parser.execute(chunk);
      if (error) this.fail('bad-response');
      else if (this.response && socket === this.socket) keepChunks(this.response);
    };
    const socket: net.Socket = this.target.tls
      ? tls.connect({ host, port, servername: net.isIP(host) ? undefined : host, rejectUnauthorized: false })
      : net.connect({
          host,
          port,
          noDelay: true,
          onread: {
            buffer: READ_BUFFER,
            callback: (n) => {
              onData(socket, READ_BUFFER.subarray(0, n));
              return true;
            },
          },
        });
    this.socket = socket;
    this.answered = false;
    socket.setNoDelay(true);
    if (this.target.tls) socket.on('data', (chunk: Buffer) => onData(socket, chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (socket !== this.socket) return;
      this.backOffUnlessAnswered();
      this.fail(err.code ?? 'ERROR');
    });
    socket.on('close', () => {
      if (socket !== this.socket) return;
      // The target closed: a body delimited by the close is complete now, anything else was cut.
      if (this.busy && this.parser.readsUntilClose) {
        this.parser.finish();
        return;
      }
      this.backOffUnlessAnswered();
      this.fail('ECONNRESET');
    });
    return socket;
  }

  /**
   * A target that refuses connections, or accepts and drops them, would otherwise be hit in a
   * tight loop; a socket that carried a response resets the backoff.
   */
  private backOffUnlessAnswered(): void {
    if (this.answered) return;
    this.failedSockets++;
    this.retryAt = performance.now() + Math.min(MAX_BACKOFF_MS, 25 * 2 ** (this.failedSockets - 1));
  }

  private drop(): void {
    const socket = this.socket;
    this.socket = undefined;
    this.parser.reset();
    socket?.destroy();
  }

  /** Ends the socket, and the request in flight with `kind`. */
  private fail(kind: string): void {
    this.drop();
    if (!this.busy) return;
    this.busy = false;
    this.response = undefined;
    this.owner.completed(this, undefined, kind);
  }
}

/** A response still coming keeps copies of its chunks: the read buffer is reused by the next read. */
function keepChunks(r: ReceivedResponse): void {
  for (; r.owned < r.chunks.length; r.owned++) r.chunks[r.owned] = Buffer.from(r.chunks[r.owned]);
}
