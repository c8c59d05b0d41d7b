/**
 * An incremental HTTP/1.x message parser for one direction of a connection. It is fed the
 * chunks as they were read from the socket (any split, several messages per chunk) and reports
 * heads, body bytes (chunked framing removed) and message ends. It copies nothing but a head
 * that spans chunks. Errors throw ParseError; the caller stops recording that connection.
 */

export type HeaderPair = [string, string];

export interface MessageHead {
  /** Requests: the method and request target; responses: ''. */
  method: string;
  target: string;
  /** Responses: the status code and reason phrase; requests: 0 and ''. */
  status: number;
  statusText: string;
  /** `1.1` or `1.0`. */
  version: string;
  headers: HeaderPair[];
  /** -1 when there is no Content-Length. */
  contentLength: number;
  chunked: boolean;
  /** `Connection: upgrade` with an `Upgrade` header: the protocol asked for, else ''. */
  upgrade: string;
}

export interface ParserHandler {
  /**
   * A head was read; `t` is when its first byte arrived. Return true when this message has no
   * body whatever its headers say (responses to HEAD, 1xx, 204, 304, a CONNECT's 2xx).
   */
  onHead(head: MessageHead, t: number): boolean | void;
  onBody(bytes: Buffer): void;
  /** The message is complete; `t` is when its last byte arrived. */
  onEnd(t: number): void;
}

export class ParseError extends Error {
  /** `h2c` when the bytes are an HTTP/2 connection preface, `malformed` otherwise. */
  constructor(
    message: string,
    readonly code: 'malformed' | 'h2c' = 'malformed',
  ) {
    super(message);
  }
}

export const MAX_HEAD_BYTES = 64 * 1024;
const MAX_LINE_BYTES = 4096;
const CRLFCRLF = Buffer.from('\r\n\r\n');
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const HEAD = 0;
const LENGTH = 1;
const CHUNK_SIZE = 2;
const CHUNK_DATA = 3;
const CHUNK_DATA_END = 4;
const TRAILERS = 5;
const UNTIL_CLOSE = 6;
const FAILED = 7;

export class Http1Parser {
  private state = HEAD;
  /** The start of a head that has not ended yet. */
  private headBuf: Buffer | null = null;
  private headT = 0;
  private remaining = 0;
  private line = '';
  private paused = false;
  private stopped = false;
  private held: [Buffer, number][] = [];

  constructor(
    readonly kind: 'request' | 'response',
    private readonly handler: ParserHandler,
  ) {}

  /** Between messages, with nothing partial: a connection could be closed here without loss. */
  get idle(): boolean {
    return this.state === HEAD && this.headBuf === null && this.held.length === 0;
  }

  /** Hold further bytes unparsed (after an upgrade request, until its response is known). */
  pause(): void {
    this.paused = true;
  }

  /** Parse the held bytes and go on. */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    const held = this.held;
    this.held = [];
    for (const [chunk, t] of held) this.push(chunk, t);
  }

  /** Ignore everything from now on (the connection switched protocols). */
  stop(): void {
    this.stopped = true;
    this.held = [];
  }

  push(chunk: Buffer, t: number): void {
    if (this.stopped) return;
    if (this.state === FAILED) throw new ParseError('parser already failed');
    if (this.paused) {
      this.held.push([chunk, t]);
      return;
    }
    let off = 0;
    const len = chunk.length;
    try {
      while (off < len && !this.paused && !this.stopped) {
        switch (this.state) {
          case HEAD:
            off = this.readHead(chunk, off, t);
            break;
          case LENGTH:
          case CHUNK_DATA: {
            const n = Math.min(this.remaining, len - off);
            this.handler.onBody(chunk.subarray(off, off + n));
            off += n;
            this.remaining -= n;
            if (this.remaining === 0) {
              if (this.state === LENGTH) this.finish(t);
              else {
                this.state = CHUNK_DATA_END;
                this.remaining = 2;
              }
            }
            break;
          }
          case CHUNK_DATA_END: {
            // CRLF after each chunk's data.
            const expected = this.remaining === 2 ? 13 : 10;
            if (chunk[off] !== expected) throw new ParseError('missing CRLF after chunk data');
            off++;
            if (--this.remaining === 0) this.state = CHUNK_SIZE;
            break;
          }
          case CHUNK_SIZE:
          case TRAILERS:
            off = this.readLine(chunk, off, t);
            break;
          case UNTIL_CLOSE:
            this.handler.onBody(off === 0 ? chunk : chunk.subarray(off));
            off = len;
            break;
        }
      }
    } catch (err) {
      this.state = FAILED;
      throw err;
    }
    if (this.paused && off < len && !this.stopped) this.held.push([chunk.subarray(off), t]);
  }

  /**
   * The direction ended at `t`. Completes a message delimited by the close; returns false
   * when a message was cut short.
   */
  end(t: number): boolean {
    if (this.stopped || this.paused) return true;
    if (this.state === UNTIL_CLOSE) {
      this.finish(t);
      return true;
    }
    return this.idle;
  }

  private finish(t: number): void {
    this.state = HEAD;
    this.handler.onEnd(t);
  }

  private readHead(chunk: Buffer, off: number, t: number): number {
    const len = chunk.length;
    const prev = this.headBuf;
    if (prev === null) {
      // Empty lines between messages are allowed (RFC 9112 2.2).
      while (off < len && (chunk[off] === 13 || chunk[off] === 10)) off++;
      if (off === len) return off;
      this.headT = t;
      const end = chunk.indexOf(CRLFCRLF, off);
      if (end !== -1 && end - off <= MAX_HEAD_BYTES) {
        this.onHead(chunk.toString('latin1', off, end), t);
        return end + 4;
      }
      if (end !== -1 || len - off > MAX_HEAD_BYTES) throw new ParseError('head too large');
      this.headBuf = chunk.subarray(off);
      return len;
    }
    const take = chunk.subarray(off, off + Math.min(len - off, MAX_HEAD_BYTES + 4));
    const joined = Buffer.concat([prev, take]);
    const end = joined.indexOf(CRLFCRLF, Math.max(0, prev.length - 3));
    if (end === -1 || end > MAX_HEAD_BYTES) {
      if (joined.length > MAX_HEAD_BYTES) throw new ParseError('head too large');
      this.headBuf = joined;
      return off + take.length;
    }
    this.headBuf = null;
    this.onHead(joined.toString('latin1', 0, end), t);
    return off + end + 4 - prev.length;
  }

  private onHead(text: string, t: number): void {
    const head = this.kind === 'request' ? parseRequestHead(text) : parseResponseHead(text);
    const noBody = this.handler.onHead(head, this.headT) === true;
    if (this.stopped) return;
    if (this.kind === 'request') {
      if (head.chunked) this.startChunked();
      else if (head.contentLength > 0) this.startLength(head.contentLength);
      else this.finish(t);
    } else if (noBody || head.contentLength === 0) this.finish(t);
    else if (head.chunked) this.startChunked();
    else if (head.contentLength > 0) this.startLength(head.contentLength);
    else this.state = UNTIL_CLOSE;
  }

  private startLength(n: number): void {
    this.state = LENGTH;
    this.remaining = n;
  }

  private startChunked(): void {
    this.state = CHUNK_SIZE;
    this.line = '';
  }

  /** A chunk-size line, or a trailer line; lines may span chunks. */
  private readLine(chunk: Buffer, off: number, t: number): number {
    const nl = chunk.indexOf(10, off);
    const stop = nl === -1 ? chunk.length : nl;
    if (this.line.length + stop - off > MAX_LINE_BYTES) throw new ParseError('chunk line too long');
    this.line += chunk.toString('latin1', off, stop);
    if (nl === -1) return chunk.length;
    const line = this.line.endsWith('\r') ? this.line.slice(0, -1) : this.line;
    this.line = '';
    if (this.state === TRAILERS) {
      if (line === '') this.finish(t);
      return nl + 1;
    }
    const semi = line.indexOf(';');
    const hex = (semi === -1 ? line : line.slice(0, semi)).trim();
    if (!/^[0-9a-fA-F]{1,12}$/.test(hex)) throw new ParseError(`bad chunk size "${hex.slice(0, 20)}"`);
    const size = parseInt(hex, 16);
    if (size === 0) this.state = TRAILERS;
    else {
      this.state = CHUNK_DATA;
      this.remaining = size;
    }
    return nl + 1;
  }
}

function parseRequestHead(text: string): MessageHead {
  const lines = text.split('\r\n');
  const first = lines[0];
  const sp1 = first.indexOf(' ');
  const sp2 = first.lastIndexOf(' ');
  if (sp1 <= 0 || sp2 <= sp1) throw new ParseError('bad request line');
  const method = first.slice(0, sp1);
  const version = first.slice(sp2 + 1);
  if (method === 'PRI' && version === 'HTTP/2.0') throw new ParseError('HTTP/2 connection preface', 'h2c');
  if (!TOKEN.test(method)) throw new ParseError('bad method');
  if (version !== 'HTTP/1.1' && version !== 'HTTP/1.0') throw new ParseError('bad HTTP version');
  const head = emptyHead(method, first.slice(sp1 + 1, sp2), 0, '', version.slice(5));
  readHeaders(lines, head);
  if (head.chunked === false && head.transferEncoding) throw new ParseError('request body length unknown');
  return head;
}

function parseResponseHead(text: string): MessageHead {
  const lines = text.split('\r\n');
  const first = lines[0];
  const version = first.slice(0, 8);
  if ((version !== 'HTTP/1.1' && version !== 'HTTP/1.0') || first.charCodeAt(8) !== 32) {
    throw new ParseError('bad status line');
  }
  const code = first.slice(9, 12);
  if (!/^[1-9]\d\d$/.test(code) || (first.length > 12 && first.charCodeAt(12) !== 32)) {
    throw new ParseError('bad status code');
  }
  const head = emptyHead('', '', Number(code), first.slice(13), version.slice(5));
  readHeaders(lines, head);
  return head;
}

type HeadInProgress = MessageHead & { transferEncoding?: boolean };

function emptyHead(
  method: string,
  target: string,
  status: number,
  statusText: string,
  version: string,
): HeadInProgress {
  return {
    method,
    target,
    status,
    statusText,
    version,
    headers: [],
    contentLength: -1,
    chunked: false,
    upgrade: '',
  };
}

/** Header lines into `head`, with the framing facts (length, chunked, upgrade) on the way. */
function readHeaders(lines: string[], head: HeadInProgress): void {
  const headers = head.headers;
  let connectionUpgrade = false;
  let upgrade = '';
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const c0 = line.charCodeAt(0);
    if (c0 === 32 || c0 === 9) {
      // obs-fold: a continuation of the previous value.
      if (headers.length === 0) throw new ParseError('continuation without a header');
      const last = headers[headers.length - 1];
      last[1] = `${last[1]} ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) throw new ParseError('bad header line');
    const name = line.slice(0, colon);
    const value = line.slice(colon + 1).trim();
    headers.push([name, value]);
    const n = name.length;
    if (n !== 14 && n !== 17 && n !== 10 && n !== 7) continue;
    const lower = name.toLowerCase();
    if (lower === 'content-length') {
      for (const part of value.split(',')) {
        const v = part.trim();
        if (!/^\d{1,15}$/.test(v)) throw new ParseError('bad content-length');
        const len = Number(v);
        if (head.contentLength !== -1 && head.contentLength !== len) {
          throw new ParseError('conflicting content-length');
        }
        head.contentLength = len;
      }
    } else if (lower === 'transfer-encoding') {
      head.transferEncoding = true;
      const codings = value.toLowerCase().split(',');
      head.chunked = codings[codings.length - 1].trim() === 'chunked';
    } else if (lower === 'connection') {
      if (/(^|,)\s*upgrade\s*(,|$)/i.test(value)) connectionUpgrade = true;
    } else if (lower === 'upgrade') upgrade = value;
  }
  // Transfer-Encoding overrides Content-Length (RFC 9112 6.3).
  if (head.transferEncoding) head.contentLength = -1;
  if (connectionUpgrade && upgrade) head.upgrade = upgrade;
}
