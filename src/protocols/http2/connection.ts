/**
 * Decodes one HTTP/2 connection from copies of its two byte streams into exchanges, one per
 * stream: request and response heads, bodies, trailers, times, reset or GOAWAY outcome. HPACK
 * state is kept per direction and every header block is decoded, recorded or not. Streams
 * interleave freely; each is reported when both sides ended it, when it is reset, refused by a
 * GOAWAY, or the connection ends. Nothing throws out of push/gap/end: a decode failure stops the
 * connection, reports it once, and reports its open streams with an error. Bounded: streams
 * tracked, header list size, header block size, body bytes per message and per connection.
 */
import {
  type GoAway,
  type H2Exchange,
  type H2Message,
  StreamBody,
  errorCodeName,
  header,
} from './exchange.js';
import { Flag, FrameError, type FrameHandler, FrameReader, FrameType } from './frames.js';
import { type HeaderBlock, HeaderBlockAssembler } from './header-blocks.js';
import { type DecodedHeaders, type HeaderField, HpackDecoder, HpackError } from './hpack.js';
import { type UpgradeRequest, upgradeStream } from './upgrade.js';

export interface H2Limits {
  /** Streams tracked at once; more are decoded (HPACK) but not recorded, and counted. Default 100. */
  maxStreams?: number;
  /** Header list size (RFC 7541) past which fields are dropped. Default 64 KiB. */
  maxHeaderListSize?: number;
  /** Compressed header block (HEADERS + CONTINUATION) buffered; past it decoding stops. Default 256 KiB. */
  maxHeaderBlockBytes?: number;
  /** Largest HPACK dynamic table kept per direction. Default 64 KiB. */
  maxTableSize?: number;
  /** Body bytes kept per message; the rest is counted (`truncated`). Default 1 MiB. */
  maxBody?: number;
  /** Body bytes kept at once per connection, all streams together. Default 16 MiB. */
  maxBufferedBytes?: number;
}

export interface H2DecodeError {
  scope: 'connection' | 'stream';
  direction?: 'client' | 'server';
  streamId?: number;
  code: string;
  message: string;
}

export interface H2ConnectionHandler {
  onExchange(ex: H2Exchange): void;
  onError?(err: H2DecodeError): void;
}

export interface H2Stats {
  frames: number;
  exchanges: number;
  /** Streams seen past `maxStreams` (decoded, not recorded; each also reported to onError). */
  untrackedStreams: number;
  truncatedBodies: number;
  truncatedHeaderLists: number;
  resets: number;
  /** Decode failures (each stops the connection). */
  errors: number;
}

interface StreamState {
  ex: H2Exchange;
  reqEnded: boolean;
  resEnded: boolean;
}

const DIRS = ['client', 'server'] as const;

export class H2ConnectionDecoder {
  readonly stats: H2Stats = {
    frames: 0,
    exchanges: 0,
    untrackedStreams: 0,
    truncatedBodies: 0,
    truncatedHeaderLists: 0,
    resets: 0,
    errors: 0,
  };
  private readonly limits: Required<H2Limits>;
  private readonly readers: [FrameReader, FrameReader];
  private readonly hpack: [HpackDecoder, HpackDecoder];
  private readonly blocks: [HeaderBlockAssembler, HeaderBlockAssembler];
  private readonly streams = new Map<number, StreamState>();
  /** Highest stream id opened by the client (odd) and by server pushes (even). */
  private lastClientId = 0;
  private lastPushId = 0;
  private buffered = 0;
  private goaway: GoAway | undefined;
  private done = false;

  constructor(
    private readonly handler: H2ConnectionHandler,
    limits: H2Limits = {},
  ) {
    this.limits = {
      maxStreams: limits.maxStreams ?? 100,
      maxHeaderListSize: limits.maxHeaderListSize ?? 64 * 1024,
      maxHeaderBlockBytes: limits.maxHeaderBlockBytes ?? 256 * 1024,
      maxTableSize: limits.maxTableSize ?? 64 * 1024,
      maxBody: limits.maxBody ?? 1024 * 1024,
      maxBufferedBytes: limits.maxBufferedBytes ?? 16 * 1024 * 1024,
    };
    const hp = {
      hardMaxTableSize: this.limits.maxTableSize,
      maxHeaderListSize: this.limits.maxHeaderListSize,
    };
    this.hpack = [new HpackDecoder(hp), new HpackDecoder(hp)];
    const maxFramePayload = this.limits.maxHeaderBlockBytes;
    this.blocks = [new HeaderBlockAssembler(maxFramePayload), new HeaderBlockAssembler(maxFramePayload)];
    this.readers = [
      new FrameReader(this.frameHandler(0), { preface: true, maxFramePayload }),
      new FrameReader(this.frameHandler(1), { preface: false, maxFramePayload }),
    ];
  }

  /** True once decoding stopped (a failure, or end()). */
  get stopped(): boolean {
    return this.done;
  }

  /** Streams open now (tracked ones). */
  get openStreams(): number {
    return this.streams.size;
  }

  /** Bytes from the client (dir 0) or the server (dir 1), in arrival order. */
  push(dir: 0 | 1, chunk: Buffer, t: number): void {
    if (!this.done) this.guarded(dir, () => this.readers[dir].push(chunk, t));
  }

  /** `n` bytes of `dir` the tap skipped (inside a DATA payload, past its body cap). */
  gap(dir: 0 | 1, n: number, t: number): void {
    if (!this.done) this.guarded(dir, () => this.readers[dir].gap(n, t));
  }

  /**
   * The connection switched from HTTP/1.1 (`Upgrade: h2c` answered 101): the HTTP/1.1 request
   * is stream 1, already ended. Call before pushing the HTTP/2 bytes of either side.
   */
  startAfterUpgrade(req: UpgradeRequest, t: number): void {
    if (this.done) return;
    this.guarded(0, () => {
      const { headers, settings } = upgradeStream(req);
      if (settings) this.applySettings(0, settings);
      this.lastClientId = 1;
      const ex = this.open(1, headers, t);
      if (!ex) return;
      ex.upgraded = true;
      const st = this.streams.get(1)!;
      if (req.body && req.body.length > 0) this.addBody(ex.request, req.body, t);
      ex.request.endT = t;
      st.reqEnded = true;
    });
  }

  /** Both sides closed: reports every open stream (incomplete ones with an error). */
  end(t: number): void {
    if (this.done) return;
    this.done = true;
    for (const st of [...this.streams.values()]) {
      if (!(st.reqEnded && st.resEnded)) {
        st.ex.error ??= {
          code: st.ex.response ? 'INCOMPLETE_RESPONSE' : 'NO_RESPONSE',
          message: 'the connection closed before the stream ended',
        };
        if (this.goaway) st.ex.goaway = this.goaway;
      }
      this.emit(st, t);
    }
  }

  private frameHandler(dir: 0 | 1): FrameHandler {
    return {
      onFrame: (type, flags, streamId, payload, t) => this.onFrame(dir, type, flags, streamId, payload, t),
      onData: (streamId, bytes, t) => {
        const st = this.streams.get(streamId);
        const msg = st && (dir === 0 ? st.ex.request : st.ex.response);
        if (msg) this.addBody(msg, bytes, t);
      },
      onDataEnd: (streamId, flags, t) => {
        this.stats.frames++;
        if (flags & Flag.END_STREAM) this.endMessage(dir, streamId, t);
      },
    };
  }

  private onFrame(dir: 0 | 1, type: number, flags: number, id: number, payload: Buffer, t: number): void {
    this.stats.frames++;
    const block = this.blocks[dir].frame(type, flags, id, payload, t);
    if (block) this.headerBlock(dir, block);
    switch (type) {
      case FrameType.SETTINGS:
        if (!(flags & Flag.ACK)) this.applySettings(dir, payload);
        return;
      case FrameType.RST_STREAM: {
        const st = this.streams.get(id);
        if (!st || payload.length < 4) return;
        const code = payload.readUInt32BE(0);
        st.ex.reset = { by: DIRS[dir], code, name: errorCodeName(code), t };
        this.stats.resets++;
        this.emit(st, t);
        return;
      }
      case FrameType.GOAWAY:
        if (payload.length >= 8) this.onGoAway(dir, payload, t);
        return;
      default:
      // PRIORITY, PING, WINDOW_UPDATE and unknown types say nothing about the exchanges.
    }
  }

  private headerBlock(dir: 0 | 1, block: HeaderBlock): void {
    // Decoded whatever happens next: the dynamic table must stay in step.
    const decoded = this.hpack[dir].decode(block.bytes);
    if (decoded.truncated) this.stats.truncatedHeaderLists++;
    const t = block.t;
    if (block.type === FrameType.PUSH_PROMISE) {
      if (block.promisedId > this.lastPushId) {
        this.lastPushId = block.promisedId;
        const ex = this.open(block.promisedId, decoded, t);
        if (ex) {
          ex.pushedBy = block.streamId;
          ex.request.endT = t;
          this.streams.get(block.promisedId)!.reqEnded = true;
        }
      }
      return;
    }
    const id = block.streamId;
    const st = this.streams.get(id);
    if (dir === 0) {
      if (!st) {
        // A new stream; a lower id is a late block of a stream already reported or untracked.
        if (id <= this.lastClientId || (id & 1) === 0) return;
        this.lastClientId = id;
        if (!this.open(id, decoded, t)) return;
      } else if (st.reqEnded) return;
      else st.ex.request.trailers = decoded.headers;
    } else {
      if (!st) return;
      const ex = st.ex;
      if (!ex.response) {
        const status = Number(header(decoded.headers, ':status'));
        if (status >= 100 && status < 200 && !block.endStream) {
          (ex.informational ??= []).push(decoded.headers);
          return;
        }
        ex.response = this.message(decoded, t);
      } else if (!st.resEnded) ex.response.trailers = decoded.headers;
    }
    if (block.endStream) this.endMessage(dir, id, t);
  }

  /** Starts tracking a stream; undefined (and counted) past the stream limit. */
  private open(id: number, decoded: DecodedHeaders | HeaderField[], t: number): H2Exchange | undefined {
    if (this.streams.size >= this.limits.maxStreams) {
      this.stats.untrackedStreams++;
      this.report({
        scope: 'stream',
        streamId: id,
        code: 'TOO_MANY_STREAMS',
        message: 'not recorded: too many open streams',
      });
      return undefined;
    }
    const d = Array.isArray(decoded)
      ? { headers: decoded, neverIndexed: [], size: 0, truncated: false }
      : decoded;
    const ex: H2Exchange = { streamId: id, request: this.message(d, t), startT: t, endT: t };
    this.streams.set(id, { ex, reqEnded: false, resEnded: false });
    return ex;
  }

  private message(d: DecodedHeaders, t: number): H2Message {
    return {
      headers: d.headers,
      neverIndexed: d.neverIndexed,
      headersTruncated: d.truncated,
      body: new StreamBody(this.limits.maxBody),
      startT: t,
    };
  }

  private addBody(msg: H2Message, bytes: Buffer | number, t: number): void {
    this.buffered += msg.body.add(bytes, t, this.limits.maxBufferedBytes - this.buffered);
  }

  private endMessage(dir: 0 | 1, id: number, t: number): void {
    const st = this.streams.get(id);
    if (!st) return;
    if (dir === 0) {
      st.reqEnded = true;
      st.ex.request.endT = t;
    } else if (st.ex.response) {
      st.resEnded = true;
      st.ex.response.endT = t;
    }
    if (st.reqEnded && st.resEnded) this.emit(st, t);
  }

  private applySettings(dir: 0 | 1, payload: Buffer): void {
    for (let o = 0; o + 6 <= payload.length; o += 6) {
      // SETTINGS_HEADER_TABLE_SIZE from one side bounds the other side's encoder.
      if (payload.readUInt16BE(o) === 1) this.hpack[1 - dir].setAllowedTableSize(payload.readUInt32BE(o + 2));
    }
  }

  private onGoAway(dir: 0 | 1, payload: Buffer, t: number): void {
    const code = payload.readUInt32BE(4);
    const g: GoAway = {
      by: DIRS[dir],
      lastStreamId: payload.readUInt32BE(0) & 0x7fffffff,
      code,
      name: errorCodeName(code),
      debug: payload.toString('latin1', 8, Math.min(payload.length, 8 + 256)),
      t,
    };
    this.goaway = g;
    // Streams the sender never processed (opened by the other side past lastStreamId) are refused.
    const refusedParity = dir === 1 ? 1 : 0;
    for (const st of [...this.streams.values()]) {
      const id = st.ex.streamId;
      if ((id & 1) === refusedParity && id > g.lastStreamId) {
        st.ex.goaway = g;
        st.ex.error = { code: 'REFUSED_BY_GOAWAY', message: `the ${g.by} sent GOAWAY (${g.name})` };
        this.emit(st, t);
      }
    }
  }

  private emit(st: StreamState, t: number): void {
    const ex = st.ex;
    this.streams.delete(ex.streamId);
    this.buffered -= ex.request.body.kept + (ex.response?.body.kept ?? 0);
    ex.endT = Math.max(ex.endT, t);
    if (ex.request.body.truncated) this.stats.truncatedBodies++;
    if (ex.response?.body.truncated) this.stats.truncatedBodies++;
    this.stats.exchanges++;
    try {
      this.handler.onExchange(ex);
    } catch (err) {
      this.report({ scope: 'stream', streamId: ex.streamId, code: 'HANDLER_ERROR', message: String(err) });
    }
  }

  /** Runs decoding work for `dir`; a failure stops the connection instead of throwing. */
  private guarded(dir: 0 | 1, work: () => void): void {
    try {
      work();
    } catch (err) {
      this.fail(dir, err);
    }
  }

  private fail(dir: 0 | 1, err: unknown): void {
    const code =
      err instanceof HpackError ? 'HPACK_ERROR' : err instanceof FrameError ? 'FRAME_ERROR' : 'DECODER_ERROR';
    const message = err instanceof Error ? err.message : String(err);
    this.stats.errors++;
    this.report({ scope: 'connection', direction: DIRS[dir], code, message });
    this.done = true;
    for (const st of [...this.streams.values()]) {
      st.ex.error ??= { code, message: `decoding stopped: ${message}` };
      this.emit(st, st.ex.endT);
    }
  }

  private report(err: H2DecodeError): void {
    try {
      this.handler.onError?.(err);
    } catch {
      // The handler's own failure must not stop decoding.
    }
  }
}
