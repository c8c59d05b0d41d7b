/**
 * Incremental HTTP/1.1 response parser for one connection with one request in flight at a
 * time. Framing follows RFC 9112: no body for HEAD, 1xx, 204 and 304; chunked before
 * content-length; otherwise the body runs until the connection closes.
 */
import type { HeaderList } from '../model/traffic.js';
import { responseHead } from './response-head.js';

export interface ResponseHandler {
  onHead(status: number, headers: HeaderList, contentEncoding: string | undefined): void;
  onBody(chunk: Buffer): void;
  /** `keepAlive` false: the connection cannot carry another request. */
  onComplete(keepAlive: boolean): void;
}

/** Longest status line plus headers accepted, as Node's own server limit is 16 KiB. */
export const MAX_HEAD_BYTES = 64 * 1024;
const MAX_LINE_BYTES = 4096;

const enum State {
  Idle,
  Head,
  Length,
  ChunkSize,
  ChunkData,
  ChunkEnd,
  Trailer,
  UntilClose,
}

const CRLF = Buffer.from('\r\n');
const CRLFCRLF = Buffer.from('\r\n\r\n');

export class ResponseParser {
  private state = State.Idle;
  private pending: Buffer | undefined;
  private remaining = 0;
  private noBody = false;
  private keepAlive = true;

  constructor(private readonly handler: ResponseHandler) {}

  /** Arms the parser for the response to a request just sent. */
  expect(noBody: boolean): void {
    this.state = State.Head;
    this.noBody = noBody;
    this.pending = undefined;
  }

  reset(): void {
    this.state = State.Idle;
    this.pending = undefined;
  }

  /** True while a close-delimited body is being read: the close completes it. */
  get readsUntilClose(): boolean {
    return this.state === State.UntilClose;
  }

  /** The connection closed: completes a close-delimited body; false if a response was cut. */
  finish(): boolean {
    if (this.state !== State.UntilClose) return this.state === State.Idle;
    this.complete(false);
    return true;
  }

  /** Feeds received bytes; returns what is wrong when they are not a valid response. */
  execute(input: Buffer): string | undefined {
    let buf = input;
    if (this.pending) {
      buf = Buffer.concat([this.pending, input]);
      this.pending = undefined;
    }
    let off = 0;
    while (off < buf.length) {
      switch (this.state) {
        case State.Idle:
          return 'data with no request in flight';
        case State.Head: {
          const end = buf.indexOf(CRLFCRLF, off);
          if (end < 0) return this.hold(buf, off, MAX_HEAD_BYTES, 'response head too large');
          const outcome = this.head(buf.toString('latin1', off, end));
          if (typeof outcome === 'string') return outcome;
          off = end + 4;
          if (outcome) return this.complete(off === buf.length && this.keepAlive);
          break;
        }
        case State.Length:
        case State.ChunkData: {
          const take = Math.min(this.remaining, buf.length - off);
          this.handler.onBody(buf.subarray(off, off + take));
          off += take;
          this.remaining -= take;
          if (this.remaining === 0) {
            if (this.state === State.Length) return this.complete(off === buf.length && this.keepAlive);
            this.state = State.ChunkEnd;
            this.remaining = 2;
          }
          break;
        }
        case State.ChunkEnd: {
          const take = Math.min(this.remaining, buf.length - off);
          off += take;
          this.remaining -= take;
          if (this.remaining === 0) this.state = State.ChunkSize;
          break;
        }
        case State.ChunkSize: {
          const end = buf.indexOf(CRLF, off);
          if (end < 0) return this.hold(buf, off, MAX_LINE_BYTES, 'chunk size line too long');
          const text = buf.toString('latin1', off, end);
          const size = parseInt(text, 16);
          if (!/^[0-9a-fA-F]+/.test(text) || !Number.isSafeInteger(size)) return 'bad chunk size';
          off = end + 2;
          if (size === 0) this.state = State.Trailer;
          else {
            this.state = State.ChunkData;
            this.remaining = size;
          }
          break;
        }
        case State.Trailer: {
          const end = buf.indexOf(CRLF, off);
          if (end < 0) return this.hold(buf, off, MAX_HEAD_BYTES, 'trailer too large');
          const empty = end === off;
          off = end + 2;
          if (empty) return this.complete(off === buf.length && this.keepAlive);
          break;
        }
        case State.UntilClose:
          this.handler.onBody(off === 0 ? buf : buf.subarray(off));
          off = buf.length;
          break;
      }
    }
    return undefined;
  }

  private hold(buf: Buffer, off: number, limit: number, tooLarge: string): string | undefined {
    if (buf.length - off > limit) return tooLarge;
    // A copy: the input may be a read buffer that the next read overwrites.
    this.pending = Buffer.from(buf.subarray(off));
    return undefined;
  }

  /**
   * Ends the response. The handler may send the next request on this connection at once, so
   * nothing after this may touch the parser's state; bytes past the response (which a server
   * must not send unasked) make the connection single-use.
   */
  private complete(keepAlive: boolean): undefined {
    this.state = State.Idle;
    this.handler.onComplete(keepAlive);
    return undefined;
  }

  /**
   * Parses a status line and headers and picks the body framing. Returns what is wrong, or
   * whether the response is already complete (it has no body).
   */
  private head(text: string): string | boolean {
    const head = responseHead(text);
    if (typeof head === 'string') return head;
    const { status, http10, headers, connection, contentLength, transferEncoding, contentEncoding } = head;
    // Interim responses (100 Continue, 103 Early Hints) precede the real one.
    if (status < 200 && status !== 101) return false;
    this.keepAlive = http10 ? connection.includes('keep-alive') : !connection.includes('close');
    this.handler.onHead(status, headers, contentEncoding);
    if (this.noBody || status === 204 || status === 304 || status === 101) {
      if (status === 101) this.keepAlive = false;
      return true;
    }
    if (transferEncoding !== undefined) {
      if (transferEncoding.endsWith('chunked')) this.state = State.ChunkSize;
      else {
        this.state = State.UntilClose;
        this.keepAlive = false;
      }
    } else if (contentLength !== undefined) {
      if (!/^\d+$/.test(contentLength)) return 'bad content-length';
      this.remaining = Number(contentLength);
      if (this.remaining === 0) return true;
      this.state = State.Length;
    } else {
      this.state = State.UntilClose;
      this.keepAlive = false;
    }
    return false;
  }
}
