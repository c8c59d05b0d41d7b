/**
 * The generator's own HTTP/2 client connection on a raw socket (node:http2's client made a tenth
 * of ghz's calls per second on the same greeter). It writes pre-encoded request frames
 * (frames-out.ts), batched into one socket write per turn of the event loop, and reads with the
 * project's frame reader and HPACK decoder. It keeps to the peer's SETTINGS (concurrent streams,
 * initial window) and both send windows, keeps its own receive windows open with WINDOW_UPDATE,
 * answers PING, and ends streams on RST_STREAM and GOAWAY. Bounded: streams by the pool's limit,
 * header blocks and header lists by 64 KiB, kept body bytes by the caller's StreamBody.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import type { HeaderList } from '../../model/traffic.js';
import { errorCodeName } from '../../protocols/http2/exchange.js';
import { Flag, FrameReader, FrameType } from '../../protocols/http2/frames.js';
import { HeaderBlockAssembler, type HeaderBlock } from '../../protocols/http2/header-blocks.js';
import { HpackDecoder } from '../../protocols/http2/hpack.js';
import {
  CONNECTION_WINDOW,
  clientPreface,
  dataFrames,
  ErrorCode,
  goAway,
  pingAck,
  type RequestFrames,
  rstStream,
  Setting,
  settingsAck,
  STREAM_WINDOW,
  windowUpdate,
  withStreamId,
} from './frames-out.js';

export interface H2Target {
  host: string;
  port: number;
  tls: boolean;
}

/** One request's receiver: called in order, `onClose` once (error undefined: the response ended). */
export interface StreamHandler {
  onHeaders(status: number, headers: HeaderList): void;
  onData(chunk: Buffer, now: number): void;
  onTrailers(trailers: HeaderList): void;
  onClose(error: string | undefined): void;
}

interface OpenStream {
  id: number;
  handler: StreamHandler;
  sendWindow: number;
  /** Body bytes not sent yet for want of window. */
  pending: Buffer | undefined;
  responded: boolean;
  /** Bytes received since our last WINDOW_UPDATE for this stream. */
  unacked: number;
}

const MAX_HEADER_BYTES = 64 * 1024;
const MAX_STREAM_ID = 2 ** 31 - 1;
/** What the peer allows before its SETTINGS arrive (node:http2 assumes the same). */
const DEFAULT_PEER_STREAMS = 100;
/** Header lists kept for reuse per connection (headers and trailers of the usual answer, and a few). */
const RECENT_LISTS = 4;

/** A socket error as an error kind; a TLS server refusing ALPN h2 says so (alert 120). */
function errorKind(err: NodeJS.ErrnoException): string {
  return /no application protocol/.test(err.message) ? 'no-h2-alpn' : (err.code ?? 'ECONNRESET');
}

export class H2ClientConnection {
  /** Concurrent streams the peer allows (SETTINGS_MAX_CONCURRENT_STREAMS). */
  peerMaxStreams = DEFAULT_PEER_STREAMS;
  /** Why the connection failed, as an error kind (ECONNREFUSED, ...). */
  error: string | undefined;
  /** The peer's first SETTINGS arrived: its stream limit is known. */
  settled = false;
  closed = false;
  private goingAway = false;
  private readonly socket: net.Socket;
  private readonly streams = new Map<number, OpenStream>();
  private nextId = 1;
  private connSendWindow = 65_535;
  private peerInitialWindow = 65_535;
  private peerMaxFrame = 16_384;
  private connUnacked = 0;
  private out: Buffer[] = [];
  private flushQueued = false;
  private readonly reader: FrameReader;
  private readonly blocks = new HeaderBlockAssembler(MAX_HEADER_BYTES);
  private readonly hpack = new HpackDecoder({ maxHeaderListSize: MAX_HEADER_BYTES });
  /** The last header lists seen (response headers, trailers): a repeat returns the same array. */
  private readonly recent: HeaderList[] = [];

  constructor(
    target: H2Target,
    /** The connection closed (every stream has been closed first). */
    private readonly onClosed: (conn: H2ClientConnection) => void,
    /** The peer's first SETTINGS arrived. */
    private readonly onSettled: () => void = () => undefined,
  ) {
    this.reader = new FrameReader(
      {
        onFrame: (type, flags, id, payload) => this.onFrame(type, flags, id, payload),
        onData: (id, bytes) => {
          if (typeof bytes !== 'number') this.streams.get(id)?.handler.onData(bytes, performance.now());
        },
        onDataEnd: (id, flags, _t, length) => this.onDataEnd(id, flags, length),
      },
      { preface: false, maxFramePayload: MAX_HEADER_BYTES },
    );
    const { host, port } = target;
    this.socket = target.tls
      ? tls.connect({
          host,
          port,
          ALPNProtocols: ['h2'],
          servername: net.isIP(host) ? undefined : host,
          rejectUnauthorized: false,
        })
      : net.connect({ host, port, noDelay: true });
    this.socket.setNoDelay(true);
    // A TLS server that did not choose h2 would take the preface for a broken HTTP/1.1 request.
    if (this.socket instanceof tls.TLSSocket) {
      const secure = this.socket;
      secure.once('secureConnect', () => {
        if (secure.alpnProtocol !== 'h2') this.fail('no-h2-alpn', ErrorCode.PROTOCOL_ERROR);
      });
    }
    this.queue(clientPreface());
    this.socket.on('data', (chunk: Buffer) => {
      try {
        this.reader.push(chunk, 0);
      } catch {
        this.fail('bad-response', ErrorCode.PROTOCOL_ERROR);
      }
    });
    this.socket.on('error', (err: NodeJS.ErrnoException) => (this.error ??= errorKind(err)));
    this.socket.on('close', () => this.onSocketClose());
  }

  /** Streams open now. */
  get inFlight(): number {
    return this.streams.size;
  }

  /** Can take a new stream (not closed, no GOAWAY, stream ids left). */
  get usable(): boolean {
    return !this.closed && !this.goingAway && this.nextId <= MAX_STREAM_ID;
  }

  /** Sends one request; returns its stream id. */
  request(frames: RequestFrames, handler: StreamHandler): number {
    const id = this.nextId;
    this.nextId += 2;
    const stream: OpenStream = {
      id,
      handler,
      sendWindow: this.peerInitialWindow,
      pending: undefined,
      responded: false,
      unacked: 0,
    };
    this.streams.set(id, stream);
    const size = frames.body.length;
    if (size === 0 || (size <= this.connSendWindow && size <= stream.sendWindow)) {
      // The usual case: the whole request as encoded at plan time, one copy with the id written in.
      this.connSendWindow -= size;
      stream.sendWindow -= size;
      this.queue(withStreamId(frames.all, frames.allIdAt, id));
    } else {
      this.queue(withStreamId(frames.head, frames.headIdAt, id));
      stream.pending = frames.body;
      this.sendPending(stream);
    }
    return id;
  }

  /** Ends a stream from this side (timeout, cancel): RST_STREAM CANCEL, closed with `kind`. */
  cancel(id: number, kind: string): void {
    const stream = this.streams.get(id);
    if (!stream) return;
    this.queue(rstStream(id, ErrorCode.CANCEL));
    this.close(stream, kind);
  }

  destroy(): void {
    if (this.closed) return;
    this.queue(goAway(0, ErrorCode.NO_ERROR));
    this.flush();
    this.socket.destroy();
  }

  private onFrame(type: number, flags: number, id: number, payload: Buffer): void {
    const block = this.blocks.frame(type, flags, id, payload, 0);
    if (block) return this.onHeaderBlock(block);
    switch (type) {
      case FrameType.SETTINGS:
        if (!(flags & Flag.ACK)) this.onSettings(payload);
        break;
      case FrameType.PING:
        if (!(flags & Flag.ACK)) this.queue(pingAck(payload));
        break;
      case FrameType.WINDOW_UPDATE:
        this.onWindowUpdate(id, payload.readUInt32BE(0) & 0x7fffffff);
        break;
      case FrameType.RST_STREAM: {
        const stream = this.streams.get(id);
        const code = payload.readUInt32BE(0);
        // NO_ERROR after the response started: the server needs no more of the request.
        if (stream) this.close(stream, code === 0 && stream.responded ? undefined : errorCodeName(code));
        break;
      }
      case FrameType.GOAWAY:
        this.onGoAway(payload.readUInt32BE(0) & 0x7fffffff);
        break;
    }
  }

  private onHeaderBlock(block: HeaderBlock): void {
    // Every block is decoded, in order, even for a stream no longer open: HPACK state is shared.
    const decoded = this.hpack.decode(block.bytes);
    if (block.type === FrameType.PUSH_PROMISE) return this.fail('bad-response', ErrorCode.PROTOCOL_ERROR);
    const stream = this.streams.get(block.streamId);
    if (!stream) return;
    const list: HeaderList = [];
    let status = 0;
    for (const [name, value] of decoded.headers) {
      if (name === ':status') status = Number(value);
      else if (!name.startsWith(':')) list.push([name, value]);
    }
    if (!stream.responded) {
      if (status >= 100 && status < 200 && !block.endStream) return; // interim (103, ...)
      stream.responded = true;
      stream.handler.onHeaders(status, this.shared(list));
    } else {
      stream.handler.onTrailers(this.shared(list));
    }
    if (block.endStream) this.close(stream, undefined);
  }

  /**
   * `list`, or an equal list seen just before: calls mostly repeat their headers and trailers,
   * and the observed writer turns a list it has seen into JSON once (read it, never change it).
   */
  private shared(list: HeaderList): HeaderList {
    for (const known of this.recent) {
      if (known.length === list.length && known.every(([n, v], i) => n === list[i][0] && v === list[i][1]))
        return known;
    }
    if (this.recent.length >= RECENT_LISTS) this.recent.shift();
    this.recent.push(list);
    return list;
  }

  private onDataEnd(id: number, flags: number, length: number): void {
    // Flow control counts whole DATA payloads, padding included, on streams closed or not.
    this.connUnacked += length;
    if (this.connUnacked >= CONNECTION_WINDOW / 2) {
      this.queue(windowUpdate(0, this.connUnacked));
      this.connUnacked = 0;
    }
    const stream = this.streams.get(id);
    if (!stream) return;
    if (flags & Flag.END_STREAM) return this.close(stream, undefined);
    stream.unacked += length;
    if (stream.unacked >= STREAM_WINDOW / 2) {
      this.queue(windowUpdate(id, stream.unacked));
      stream.unacked = 0;
    }
  }

  private onSettings(payload: Buffer): void {
    for (let off = 0; off + 6 <= payload.length; off += 6) {
      const key = payload.readUInt16BE(off);
      const value = payload.readUInt32BE(off + 2);
      if (key === Setting.MAX_CONCURRENT_STREAMS) this.peerMaxStreams = value;
      else if (key === Setting.MAX_FRAME_SIZE) this.peerMaxFrame = value;
      else if (key === Setting.INITIAL_WINDOW_SIZE) {
        const delta = value - this.peerInitialWindow;
        this.peerInitialWindow = value;
        for (const s of this.streams.values()) s.sendWindow += delta;
      }
    }
    this.queue(settingsAck());
    this.sendAllPending();
    if (!this.settled) {
      this.settled = true;
      this.onSettled();
    }
  }

  private onWindowUpdate(id: number, increment: number): void {
    if (id === 0) {
      this.connSendWindow += increment;
      this.sendAllPending();
      return;
    }
    const stream = this.streams.get(id);
    if (!stream) return;
    stream.sendWindow += increment;
    this.sendPending(stream);
  }

  private onGoAway(lastId: number): void {
    this.goingAway = true;
    // Streams past the last one the server took were never processed.
    for (const s of [...this.streams.values()]) if (s.id > lastId) this.close(s, 'GOAWAY');
    if (this.streams.size === 0) this.destroy();
  }

  private sendAllPending(): void {
    for (const s of this.streams.values()) if (s.pending) this.sendPending(s);
  }

  /** Sends what the windows allow of a body that did not fit at once. */
  private sendPending(stream: OpenStream): void {
    const body = stream.pending!;
    const n = Math.min(body.length, this.connSendWindow, stream.sendWindow);
    if (n <= 0) return;
    this.connSendWindow -= n;
    stream.sendWindow -= n;
    const end = n === body.length;
    for (const f of dataFrames(stream.id, body.subarray(0, n), end, this.peerMaxFrame)) this.queue(f);
    stream.pending = end ? undefined : body.subarray(n);
  }

  private close(stream: OpenStream, error: string | undefined): void {
    if (!this.streams.delete(stream.id)) return;
    stream.handler.onClose(error);
    if (this.goingAway && this.streams.size === 0) this.destroy();
  }

  /** A connection error: GOAWAY, every stream ends with `kind`, the socket closes. */
  private fail(kind: string, code: number): void {
    this.error ??= kind;
    this.queue(goAway(this.nextId - 2 > 0 ? this.nextId - 2 : 0, code));
    this.flush();
    this.socket.destroy();
  }

  private onSocketClose(): void {
    this.closed = true;
    const kind = this.error ?? 'ECONNRESET';
    for (const s of [...this.streams.values()]) this.close(s, kind);
    this.onClosed(this);
  }

  private queue(bytes: Buffer): void {
    this.out.push(bytes);
    if (this.flushQueued) return;
    this.flushQueued = true;
    queueMicrotask(() => this.flush());
  }

  /** One socket write for everything queued in this turn. */
  private flush(): void {
    this.flushQueued = false;
    if (this.out.length === 0 || this.socket.destroyed) {
      this.out = [];
      return;
    }
    const out = this.out;
    this.out = [];
    this.socket.write(out.length === 1 ? out[0] : Buffer.concat(out));
  }
}
