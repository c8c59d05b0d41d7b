/**
 * What the generator's HTTP/2 client writes (RFC 9113 frames, RFC 7541 header blocks). Header
 * blocks use only "literal without indexing" fields, with the name taken from the static table
 * when it is there: the encoder keeps no dynamic table, so a block encoded once is valid on any
 * connection at any time, and a recorded call's frames are encoded once at plan time.
 */
import { Flag, FrameType, H2_PREFACE } from '../../protocols/http2/frames.js';
import { STATIC_TABLE } from '../../protocols/http2/hpack-tables.js';

/** The smallest SETTINGS_MAX_FRAME_SIZE a peer may set: frames no bigger fit every peer. */
export const MAX_FRAME = 16_384;
export const FRAME_HEADER = 9;

export const Setting = {
  HEADER_TABLE_SIZE: 1,
  ENABLE_PUSH: 2,
  MAX_CONCURRENT_STREAMS: 3,
  INITIAL_WINDOW_SIZE: 4,
  MAX_FRAME_SIZE: 5,
  MAX_HEADER_LIST_SIZE: 6,
} as const;

export const ErrorCode = { NO_ERROR: 0, PROTOCOL_ERROR: 1, FLOW_CONTROL_ERROR: 3, CANCEL: 8 } as const;

/** Our receive window per stream, and what the connection window is raised to at the start. */
export const STREAM_WINDOW = 1 << 20;
export const CONNECTION_WINDOW = 16 << 20;

export function frame(type: number, flags: number, streamId: number, payload: Buffer = EMPTY): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER + payload.length);
  writeFrameHeader(out, 0, payload.length, type, flags, streamId);
  payload.copy(out, FRAME_HEADER);
  return out;
}

const EMPTY = Buffer.alloc(0);

function writeFrameHeader(out: Buffer, at: number, length: number, type: number, flags: number, id: number) {
  out[at] = length >>> 16;
  out[at + 1] = (length >>> 8) & 0xff;
  out[at + 2] = length & 0xff;
  out[at + 3] = type;
  out[at + 4] = flags;
  out.writeUInt32BE(id & 0x7fffffff, at + 5);
}

function u32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

/** The preface, our SETTINGS (no push, our stream window) and the connection window raised. */
export function clientPreface(): Buffer {
  const settings = Buffer.allocUnsafe(12);
  settings.writeUInt16BE(Setting.ENABLE_PUSH, 0);
  settings.writeUInt32BE(0, 2);
  settings.writeUInt16BE(Setting.INITIAL_WINDOW_SIZE, 6);
  settings.writeUInt32BE(STREAM_WINDOW, 8);
  return Buffer.concat([
    H2_PREFACE,
    frame(FrameType.SETTINGS, 0, 0, settings),
    windowUpdate(0, CONNECTION_WINDOW - 65_535),
  ]);
}

export const settingsAck = () => frame(FrameType.SETTINGS, Flag.ACK, 0);
export const pingAck = (payload: Buffer) => frame(FrameType.PING, Flag.ACK, 0, payload);
export const windowUpdate = (id: number, increment: number) =>
  frame(FrameType.WINDOW_UPDATE, 0, id, u32(increment));
export const rstStream = (id: number, code: number) => frame(FrameType.RST_STREAM, 0, id, u32(code));
export const goAway = (lastId: number, code: number) =>
  frame(FrameType.GOAWAY, 0, 0, Buffer.concat([u32(lastId), u32(code)]));

/** Static-table index of each name (its first entry). */
const NAME_INDEX = new Map<string, number>();
STATIC_TABLE.forEach(([name], i) => {
  if (!NAME_INDEX.has(name)) NAME_INDEX.set(name, i + 1);
});

/** An HPACK integer with an N-bit prefix whose high bits are `first` (RFC 7541 5.1). */
function integer(out: number[], n: number, prefixBits: number, first: number): void {
  const max = (1 << prefixBits) - 1;
  if (n < max) {
    out.push(first | n);
    return;
  }
  out.push(first | max);
  for (n -= max; n >= 128; n = Math.floor(n / 128)) out.push((n % 128) + 128);
  out.push(n);
}

function literal(out: number[], s: string): void {
  const bytes = Buffer.from(s, 'latin1');
  integer(out, bytes.length, 7, 0);
  for (const b of bytes) out.push(b);
}

/** A header block of literal-without-indexing fields; names lowercase, pseudo-headers first. */
export function encodeHeaderBlock(fields: readonly (readonly [string, string])[]): Buffer {
  const out: number[] = [];
  for (const [name, value] of fields) {
    const index = NAME_INDEX.get(name);
    if (index !== undefined) integer(out, index, 4, 0x00);
    else {
      out.push(0x00);
      literal(out, name);
    }
    literal(out, value);
  }
  return Buffer.from(out);
}

/**
 * One request's frames, encoded once with stream id 0: HEADERS (+ CONTINUATION) then DATA, each
 * at most MAX_FRAME, END_STREAM on the last. `idAt` lists where each frame's stream id goes.
 */
export interface RequestFrames {
  /** HEADERS and CONTINUATION frames only. */
  readonly head: Buffer;
  /** The whole request: head, then the body's DATA frames. */
  readonly all: Buffer;
  readonly headIdAt: readonly number[];
  readonly allIdAt: readonly number[];
  readonly body: Buffer;
}

export function requestFrames(block: Buffer, body: Buffer): RequestFrames {
  const parts: Buffer[] = [];
  const idAt: number[] = [];
  let at = 0;
  for (let off = 0; off === 0 || off < block.length; off += MAX_FRAME) {
    const last = off + MAX_FRAME >= block.length;
    const flags = (last ? Flag.END_HEADERS : 0) | (off === 0 && body.length === 0 ? Flag.END_STREAM : 0);
    const f = frame(
      off === 0 ? FrameType.HEADERS : FrameType.CONTINUATION,
      flags,
      0,
      block.subarray(off, off + MAX_FRAME),
    );
    idAt.push(at + 5);
    at += f.length;
    parts.push(f);
  }
  const head = Buffer.concat(parts);
  const headIdAt = [...idAt];
  if (body.length > 0) {
    for (const f of dataFrames(0, body, true, MAX_FRAME)) {
      idAt.push(at + 5);
      at += f.length;
      parts.push(f);
    }
  }
  return { head, all: Buffer.concat(parts), headIdAt, allIdAt: idAt, body };
}

/** A copy of pre-encoded frames with the stream id written in. */
export function withStreamId(frames: Buffer, idAt: readonly number[], id: number): Buffer {
  const out = Buffer.allocUnsafe(frames.length);
  frames.copy(out);
  for (const at of idAt) out.writeUInt32BE(id, at);
  return out;
}

/** DATA frames for `bytes` of a body, the last one ending the stream when `end`. */
export function dataFrames(id: number, bytes: Buffer, end: boolean, maxFrame: number): Buffer[] {
  const out: Buffer[] = [];
  for (let off = 0; off < bytes.length; off += maxFrame) {
    const last = off + maxFrame >= bytes.length;
    out.push(
      frame(FrameType.DATA, last && end ? Flag.END_STREAM : 0, id, bytes.subarray(off, off + maxFrame)),
    );
  }
  if (bytes.length === 0 && end) out.push(frame(FrameType.DATA, Flag.END_STREAM, id));
  return out;
}
