/**
 * An incremental HTTP/2 frame reader (RFC 9113 4.1) for one direction of a connection. It takes
 * chunks split anywhere and "gaps" (counts of bytes a tap skipped; allowed only inside DATA
 * payloads), buffers non-DATA frames whole (bounded) and streams DATA payloads through without
 * copying, padding removed. Errors throw FrameError; the caller stops reading that direction.
 */

export const FrameType = {
  DATA: 0,
  HEADERS: 1,
  PRIORITY: 2,
  RST_STREAM: 3,
  SETTINGS: 4,
  PUSH_PROMISE: 5,
  PING: 6,
  GOAWAY: 7,
  WINDOW_UPDATE: 8,
  CONTINUATION: 9,
} as const;

export const Flag = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4, PADDED: 0x8, PRIORITY: 0x20 } as const;

/** The client connection preface (RFC 9113 3.4). */
export const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** True when `bytes` start the client preface (or are a prefix of it). */
export function looksLikeH2Preface(bytes: Uint8Array): boolean {
  const n = Math.min(bytes.length, H2_PREFACE.length);
  for (let i = 0; i < n; i++) if (bytes[i] !== H2_PREFACE[i]) return false;
  return n > 0;
}

export class FrameError extends Error {}

export interface FrameHandler {
  /** A whole frame other than DATA; `t` is when its first byte arrived. */
  onFrame(type: number, flags: number, streamId: number, payload: Buffer, t: number): void;
  /** DATA payload bytes (padding removed) of `streamId`, or a count of skipped ones. */
  onData(streamId: number, bytes: Buffer | number, t: number): void;
  /** A DATA frame ended; `flags` carry END_STREAM; `length` is its whole payload (flow control counts padding). */
  onDataEnd(streamId: number, flags: number, t: number, length: number): void;
}

/** Where the reader is: before the preface, in a frame header, a payload, or a DATA frame's parts. */
enum State {
  Preface,
  Header,
  Payload,
  DataPadLength,
  Data,
  DataPadding,
  Failed,
}

export class FrameReader {
  private state: number;
  private prefaceSeen = 0;
  /** A frame header that spans chunks. */
  private readonly hdr = Buffer.alloc(9);
  private hdrLen = 0;
  private type = 0;
  private flags = 0;
  private streamId = 0;
  private length = 0;
  private frameT = 0;
  /** Payload bytes of the current frame not read yet (DATA: of its data part, then padding). */
  private remaining = 0;
  private padding = 0;
  private parts: Buffer[] = [];

  constructor(
    private readonly handler: FrameHandler,
    opts: { preface: boolean; maxFramePayload?: number },
  ) {
    this.state = opts.preface ? State.Preface : State.Header;
    this.maxPayload = opts.maxFramePayload ?? 1024 * 1024;
  }

  private readonly maxPayload: number;

  /** Between frames, nothing partial. */
  get idle(): boolean {
    return this.state === State.Header && this.hdrLen === 0;
  }

  get failed(): boolean {
    return this.state === State.Failed;
  }

  push(chunk: Buffer, t: number): void {
    if (this.state === State.Failed) return;
    try {
      this.read(chunk, t);
    } catch (err) {
      this.state = State.Failed;
      this.parts = [];
      throw err;
    }
  }

  /** `n` bytes the tap did not pass on; they must lie inside one DATA payload. */
  gap(n: number, t: number): void {
    if (this.state === State.Failed || n <= 0) return;
    const s = this.state;
    if (s === State.Data && n <= this.remaining + this.padding) {
      const inData = Math.min(n, this.remaining);
      if (inData > 0) this.handler.onData(this.streamId, inData, t);
      this.remaining -= inData;
      this.padding -= n - inData;
      this.state = this.remaining > 0 ? State.Data : State.DataPadding;
      if (this.remaining === 0 && this.padding === 0) this.endData(t);
      return;
    }
    if (s === State.DataPadding && n <= this.padding) {
      this.padding -= n;
      if (this.padding === 0) this.endData(t);
      return;
    }
    this.state = State.Failed;
    throw new FrameError(`a gap of ${n} bytes outside a DATA payload`);
  }

  private read(chunk: Buffer, t: number): void {
    const len = chunk.length;
    let off = 0;
    while (off < len) {
      switch (this.state) {
        case State.Preface: {
          while (off < len && this.prefaceSeen < H2_PREFACE.length) {
            if (chunk[off++] !== H2_PREFACE[this.prefaceSeen++])
              throw new FrameError('not an HTTP/2 preface');
          }
          if (this.prefaceSeen === H2_PREFACE.length) this.state = State.Header;
          break;
        }
        case State.Header: {
          if (this.hdrLen === 0 && len - off >= 9) {
            this.startFrame(chunk, off, t);
            off += 9;
          } else {
            if (this.hdrLen === 0) this.frameT = t;
            const n = Math.min(9 - this.hdrLen, len - off);
            chunk.copy(this.hdr, this.hdrLen, off, off + n);
            this.hdrLen += n;
            off += n;
            if (this.hdrLen === 9) {
              this.hdrLen = 0;
              this.startFrame(this.hdr, 0, this.frameT);
            }
          }
          break;
        }
        case State.Payload: {
          const n = Math.min(this.remaining, len - off);
          const piece = chunk.subarray(off, off + n);
          off += n;
          this.remaining -= n;
          if (this.remaining > 0) this.parts.push(piece);
          else if (this.parts.length === 0) this.endFrame(piece);
          else {
            this.parts.push(piece);
            const whole = Buffer.concat(this.parts, this.length);
            this.parts = [];
            this.endFrame(whole);
          }
          break;
        }
        case State.DataPadLength: {
          this.padding = chunk[off++];
          this.remaining = this.length - 1 - this.padding;
          if (this.remaining < 0) throw new FrameError('DATA padding longer than the frame');
          this.state = State.Data;
          if (this.remaining === 0 && this.padding === 0) this.endData(t);
          else if (this.remaining === 0) this.state = State.DataPadding;
          break;
        }
        case State.Data: {
          const n = Math.min(this.remaining, len - off);
          this.handler.onData(this.streamId, chunk.subarray(off, off + n), t);
          off += n;
          this.remaining -= n;
          if (this.remaining === 0) {
            if (this.padding === 0) this.endData(t);
            else this.state = State.DataPadding;
          }
          break;
        }
        case State.DataPadding: {
          const n = Math.min(this.padding, len - off);
          off += n;
          this.padding -= n;
          if (this.padding === 0) this.endData(t);
          break;
        }
        default:
          return;
      }
    }
  }

  private startFrame(b: Buffer, o: number, t: number): void {
    this.length = (b[o] << 16) | (b[o + 1] << 8) | b[o + 2];
    this.type = b[o + 3];
    this.flags = b[o + 4];
    this.streamId = b.readUInt32BE(o + 5) & 0x7fffffff;
    this.frameT = t;
    if (this.type === FrameType.DATA) {
      this.padding = 0;
      if (this.flags & Flag.PADDED) {
        if (this.length === 0) throw new FrameError('padded DATA frame without a pad length');
        this.state = State.DataPadLength;
      } else {
        this.remaining = this.length;
        this.state = State.Data;
        if (this.length === 0) this.endData(t);
      }
      return;
    }
    if (this.length > this.maxPayload) {
      throw new FrameError(`frame of type ${this.type} with ${this.length} bytes exceeds ${this.maxPayload}`);
    }
    this.remaining = this.length;
    this.state = State.Payload;
    if (this.length === 0) this.endFrame(Buffer.alloc(0));
  }

  private endFrame(payload: Buffer): void {
    this.state = State.Header;
    this.handler.onFrame(this.type, this.flags, this.streamId, payload, this.frameT);
  }

  private endData(t: number): void {
    this.state = State.Header;
    this.handler.onDataEnd(this.streamId, this.flags, t, this.length);
  }
}
