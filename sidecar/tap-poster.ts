/**
 * The shipper's HTTP/1.1 client for `POST /v1/tap`: one kept-alive connection (TLS for an https
 * forwarder URL), one request at a time, its head and the batch written in one writev; the
 * answer's status is read and its body skipped (Content-Length, chunked, or until close). Not
 * node:http: the proxied sockets are the sidecar's hot path, and node:http's request and response
 * streams beside them cost the proxy 4-7% more CPU per request (an A/B of sidecar processes
 * against a discarding sink).
 */
import net from 'node:net';
import tls from 'node:tls';

/** The longest answer head read before the connection is given up. */
const MAX_HEAD_BYTES = 64 * 1024;
const CRLFCRLF = Buffer.from('\r\n\r\n');
const INVALID_HEADER_CHAR = /[^\t\x20-\x7e\x80-\xff]/;

interface Waiting {
  resolve(status: number): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/** What is left of the answer being read. */
type Body =
  | { kind: 'head' }
  | { kind: 'length'; left: number }
  | { kind: 'chunked'; left: number; line: string; trailers: boolean }
  | { kind: 'until-close' };

export class TapPoster {
  private socket: net.Socket | undefined;
  private waiting: Waiting | undefined;
  private head: Buffer[] = [];
  private headBytes = 0;
  private body: Body = { kind: 'head' };
  private status = 0;
  private closeAfter = false;

  constructor(private readonly url: URL) {}

  /** Sends one request; resolves with the answer's status once its body has been read. */
  post(headers: Record<string, string | number>, body: Buffer, timeoutMs: number): Promise<number> {
    if (this.waiting) return Promise.reject(new Error('a tap batch is already being sent'));
    const socket = this.connection();
    let text = `POST ${this.url.pathname}${this.url.search} HTTP/1.1\r\nhost: ${this.url.host}\r\n`;
    for (const [name, value] of Object.entries(headers)) {
      // What node:http refuses too: a CR or LF would end the header (and start another).
      if (INVALID_HEADER_CHAR.test(String(value)))
        return Promise.reject(
          new Error(`header ${name}: expected visible latin1 characters, got ${JSON.stringify(value)}`),
        );
      text += `${name}: ${value}\r\n`;
    }
    text += `content-length: ${body.length}\r\n\r\n`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      this.waiting = { resolve, reject, timer };
      this.body = { kind: 'head' };
      socket.cork();
      socket.write(text, 'latin1');
      socket.write(body);
      socket.uncork();
    });
  }

  /** Closes the connection; a request being sent fails with `err`. */
  destroy(err = new Error('tap connection closed')): void {
    const socket = this.socket;
    this.socket = undefined;
    socket?.destroy();
    this.fail(err);
  }

  private connection(): net.Socket {
    if (this.socket && !this.socket.destroyed) return this.socket;
    const https = this.url.protocol === 'https:';
    const host = this.url.hostname.replace(/^\[(.*)\]$/, '$1');
    const port = Number(this.url.port) || (https ? 443 : 80);
    const socket = https
      ? tls.connect({ host, port, servername: net.isIP(host) ? undefined : host })
      : net.connect({ host, port });
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.read(socket, chunk));
    socket.on('error', (err) => this.lost(socket, err));
    socket.on('close', () => this.lost(socket, new Error('the forwarder closed the connection')));
    this.socket = socket;
    this.head = [];
    this.headBytes = 0;
    return socket;
  }

  /** The connection ended: an answer read until close is complete, anything else failed. */
  private lost(socket: net.Socket, err: Error): void {
    if (socket !== this.socket) return;
    this.socket = undefined;
    if (this.body.kind === 'until-close') this.done(false);
    else this.fail(err);
  }

  private read(socket: net.Socket, chunk: Buffer): void {
    if (socket !== this.socket) return;
    let at = 0;
    while (at < chunk.length) {
      if (!this.waiting) return this.destroy(new Error('the forwarder sent bytes nobody asked for'));
      if (this.body.kind === 'head') {
        at = this.readHead(chunk, at);
        if (at < 0) return;
      } else if (this.body.kind === 'length') {
        const n = Math.min(this.body.left, chunk.length - at);
        this.body.left -= n;
        at += n;
        if (this.body.left === 0) this.done(true);
      } else if (this.body.kind === 'chunked') {
        at = this.readChunked(this.body, chunk, at);
        if (at < 0) return;
      } else return;
    }
  }

  /** Where the head ends in `chunk` (past it), or -1 when the connection was given up or more is needed. */
  private readHead(chunk: Buffer, at: number): number {
    this.head.push(at === 0 ? chunk : chunk.subarray(at));
    this.headBytes += chunk.length - at;
    const joined = this.head.length === 1 ? this.head[0] : Buffer.concat(this.head);
    const end = joined.indexOf(CRLFCRLF);
    if (end === -1) {
      this.head = [joined];
      if (this.headBytes > MAX_HEAD_BYTES) this.destroy(new Error('the forwarder answered a head too large'));
      return -1;
    }
    const rest = joined.length - (end + 4);
    this.head = [];
    this.headBytes = 0;
    const text = joined.toString('latin1', 0, end);
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
    if (!m) {
      this.destroy(
        new Error(
          `the forwarder answered something else than HTTP/1.x: ${JSON.stringify(text.slice(0, 40))}`,
        ),
      );
      return -1;
    }
    this.status = Number(m[1]);
    // An interim answer (100 Continue): the real one follows.
    if (this.status < 200) return chunk.length - rest;
    this.closeAfter = /^connection:[ \t]*close[ \t]*$/im.test(text);
    const length = /^content-length:[ \t]*(\d+)[ \t]*$/im.exec(text);
    if (this.status === 204 || this.status === 304) this.body = { kind: 'length', left: 0 };
    else if (/^transfer-encoding:.*chunked[ \t]*$/im.test(text))
      this.body = { kind: 'chunked', left: 0, line: '', trailers: false };
    else if (length) this.body = { kind: 'length', left: Number(length[1]) };
    else this.body = { kind: 'until-close' };
    if (this.body.kind === 'length' && this.body.left === 0) this.done(true);
    return chunk.length - rest;
  }

  /** Skips a chunked body: size lines, data, then trailer lines up to an empty one. */
  private readChunked(b: Extract<Body, { kind: 'chunked' }>, chunk: Buffer, at: number): number {
    while (at < chunk.length) {
      if (b.left > 0) {
        const n = Math.min(b.left, chunk.length - at);
        b.left -= n;
        at += n;
        continue;
      }
      const nl = chunk.indexOf(10, at);
      b.line += chunk.toString('latin1', at, nl === -1 ? chunk.length : nl);
      if (b.line.length > MAX_HEAD_BYTES) {
        this.destroy(new Error('the forwarder answered a chunk line too long'));
        return -1;
      }
      if (nl === -1) return chunk.length;
      at = nl + 1;
      const line = b.line.replace(/\r$/, '');
      b.line = '';
      if (b.trailers) {
        if (line === '') {
          this.done(true);
          return at;
        }
      } else if (line !== '') {
        const size = parseInt(line, 16);
        if (!Number.isFinite(size)) {
          this.destroy(new Error('the forwarder answered a bad chunk size'));
          return -1;
        }
        if (size === 0) b.trailers = true;
        // The data's own CRLF after it is read as an empty line.
        else b.left = size;
      }
    }
    return at;
  }

  private done(keep: boolean): void {
    const w = this.waiting;
    this.waiting = undefined;
    this.body = { kind: 'head' };
    if (!keep || this.closeAfter) {
      const socket = this.socket;
      this.socket = undefined;
      socket?.destroy();
    }
    if (w) {
      clearTimeout(w.timer);
      w.resolve(this.status);
    }
  }

  private fail(err: Error): void {
    const w = this.waiting;
    this.waiting = undefined;
    this.body = { kind: 'head' };
    if (w) {
      clearTimeout(w.timer);
      w.reject(err);
    }
  }
}
