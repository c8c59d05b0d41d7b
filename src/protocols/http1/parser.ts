/**
 * An incremental HTTP/1.x message boundary finder for one direction of a connection. It is fed
 * the chunks as they were read from the socket (any split, several messages per chunk) and
 * reports heads (their framing facts and bytes), body bytes (chunked framing removed) and
 * message ends. It copies nothing but a head that spans chunks, and reads no header it does not
 * need for framing (framing.ts). Errors throw ParseError; the caller stops recording that connection.
 */
import { type HeadFacts, MAX_HEAD_BYTES, ParseError, newHeadFacts, scanHead } from './framing.js';

export { ParseError, MAX_HEAD_BYTES, type HeadFacts } from './framing.js';

export interface ParserHandler {
  /**
   * A head was read: its framing facts and its bytes (without the final CRLFCRLF; a view of the
   * chunk when it fits in one); `t` is when its first byte arrived. `head` is reused for the
   * next head of this direction: read it here, do not keep it. Return true when this
   * message has no body whatever its headers say (responses to HEAD, 1xx, 204, 304, a CONNECT's 2xx).
   */
  onHead(head: HeadFacts, bytes: Buffer, t: number): boolean | void;
  onBody(bytes: Buffer, t: number): void;
  /** The message is complete; `t` is when its last byte arrived. */
  onEnd(t: number): void;
}

const MAX_LINE_BYTES = 4096;
const CRLFCRLF = Buffer.from('\r\n\r\n');
/** Heads are looked through byte by byte this far (cheaper than a call to indexOf), then by indexOf. */
const SHORT_HEAD_BYTES = 2048;

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
  private sink: ((chunk: Buffer, t: number) => void) | undefined;
  /** What onHead is given: one object per direction, overwritten by the next head. */
  private readonly facts = newHeadFacts();

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

  /**
   * The connection switched protocols: every byte from here on (held ones now, the rest of the
   * chunk being read once its handler returns, later chunks) goes to `sink` untouched.
   */
  switchTo(sink: (chunk: Buffer, t: number) => void): void {
    this.stopped = true;
    this.sink = sink;
    const held = this.held;
    this.held = [];
    for (const [chunk, t] of held) sink(chunk, t);
  }

  push(chunk: Buffer, t: number): void {
    if (this.sink) return this.sink(chunk, t);
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
            this.handler.onBody(chunk.subarray(off, off + n), t);
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
            this.handler.onBody(off === 0 ? chunk : chunk.subarray(off), t);
            off = len;
            break;
        }
      }
    } catch (err) {
      this.state = FAILED;
      throw err;
    }
    // A handler may have switched the parser (TypeScript cannot see it change).
    const sink = this.sink as ((chunk: Buffer, t: number) => void) | undefined;
    if (this.paused && off < len && !this.stopped) this.held.push([chunk.subarray(off), t]);
    else if (sink && off < len) sink(chunk.subarray(off), t);
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
      const end = headEnd(chunk, off);
      if (end !== -1 && end - off <= MAX_HEAD_BYTES) {
        this.onHead(chunk, off, end, t);
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
    this.onHead(joined, 0, end, t);
    return off + end + 4 - prev.length;
  }

  private onHead(b: Buffer, start: number, end: number, t: number): void {
    const head = scanHead(b, start, end, this.kind, this.facts);
    const noBody = this.handler.onHead(head, b.subarray(start, end), this.headT) === true;
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

/**
 * Where the head that starts at `off` ends (the index of its CRLFCRLF), or -1. The head starts
 * with neither CR nor LF (the parser skips those between messages), so no match starts at `off`.
 */
function headEnd(b: Buffer, off: number): number {
  const stop = Math.min(b.length, off + SHORT_HEAD_BYTES);
  let i = off + 3;
  while (i < stop) {
    const c = b[i];
    if (c === 10) {
      if (b[i - 1] === 13 && b[i - 2] === 10 && b[i - 3] === 13) return i - 3;
      i++;
    } else if (c === 13) i++;
    // Neither CR nor LF: no CRLFCRLF can include this byte, so none can end before i + 4.
    else i += 4;
  }
  return stop === b.length ? -1 : b.indexOf(CRLFCRLF, stop - 3);
}
