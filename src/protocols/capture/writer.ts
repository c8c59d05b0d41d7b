/** Writing tap frames (frames.ts says what they hold) into a growing buffer. */
import { type ConnFacts, FRAME_HEADER, Flags, FrameKind, type H2Open, VIAS } from './frames.js';

/** Appends frames to a growing buffer; `take()` hands over what was written. */
export class TapWriter {
  private buf: Buffer;
  private len = 0;

  constructor(initial = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  get size(): number {
    return this.len;
  }

  /** The bytes written so far; the writer starts over (with a fresh buffer). */
  take(): Buffer {
    const out = this.buf.subarray(0, this.len);
    this.buf = Buffer.allocUnsafe(Math.max(64 * 1024, Math.min(this.buf.length, 1 << 20)));
    this.len = 0;
    return out;
  }

  /** Starts a frame; returns where, for end(). */
  begin(kind: number): number {
    this.room(FRAME_HEADER);
    const at = this.len;
    this.buf[at] = kind;
    this.len += FRAME_HEADER;
    return at;
  }

  /** Ends the frame begun at `at`: its length is what was written since. */
  end(at: number): void {
    this.buf.writeUInt32LE(this.len - at - FRAME_HEADER, at + 1);
  }

  u8(v: number): void {
    this.room(1);
    this.buf[this.len++] = v;
  }

  u16(v: number): void {
    this.room(2);
    this.buf.writeUInt16LE(v, this.len);
    this.len += 2;
  }

  u32(v: number): void {
    this.room(4);
    this.buf.writeUInt32LE(v >>> 0, this.len);
    this.len += 4;
  }

  f64(v: number): void {
    this.room(8);
    this.buf.writeDoubleLE(v, this.len);
    this.len += 8;
  }

  /** Raw bytes (the caller wrote their length). */
  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  /** A u32 length, then the parts one after the other. */
  parts(parts: readonly Uint8Array[], total: number): void {
    this.u32(total);
    for (const p of parts) this.bytes(p);
  }

  /** A string with a u8 (short) or u16 length, cut at the limit (strings here are names and messages). */
  str(s: string, wide = false): void {
    const max = wide ? 0xffff : 0xff;
    const start = this.len + (wide ? 2 : 1);
    this.room((wide ? 2 : 1) + Math.min(max, s.length * 3));
    const n =
      s.length <= 64 && ascii(s, this.buf, start)
        ? s.length
        : this.buf.write(s, start, Math.min(max, this.buf.length - start), 'utf8');
    if (wide) this.buf.writeUInt16LE(n, this.len);
    else this.buf[this.len] = n;
    this.len = start + n;
  }

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }
}

/** Bytes a string takes (with its length prefix), at most; for sizing a frame before writing it. */
export const strSize = (s: string, wide = false): number =>
  (wide ? 2 : 1) + Math.min(wide ? 0xffff : 0xff, s.length * 3);

/** Writes a short ASCII string byte by byte (cheaper than an encoder call); false when it is not ASCII. */
function ascii(s: string, buf: Buffer, at: number): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) return false;
    buf[at + i] = c;
  }
  return true;
}

/** Bytes an exchange's frame takes at most, for the admission check before writing it. */
export function exchangeSize(x: ExchangeParts): number {
  let n = FRAME_HEADER + 59 + strSize(x.facts.host) + x.reqHead.length + x.reqBody.kept;
  n += (x.resHead?.length ?? 0) + x.resBody.kept;
  if (x.error) n += strSize(x.error.code) + strSize(x.error.message, true) - 3;
  if (x.tags) for (const k in x.tags) n += strSize(k) + strSize(x.tags[k], true);
  return n;
}

/** The parts of an exchange as the sidecar holds them: heads and kept body bytes as chunk views. */
export interface ExchangeParts {
  conn: number;
  facts: ConnFacts;
  startT: number;
  endT: number;
  reqHead: Buffer;
  reqBody: { parts: readonly Buffer[]; kept: number; size: number };
  resHead?: Buffer;
  resBody: { parts: readonly Buffer[]; kept: number; size: number };
  switched: boolean;
  error?: { code: string; message: string };
  tags?: Record<string, string>;
}

/** Writes one EXCHANGE frame. */
export function writeExchange(w: TapWriter, x: ExchangeParts): void {
  const at = w.begin(FrameKind.EXCHANGE);
  w.u32(x.conn);
  w.u8(
    (x.facts.outbound ? Flags.OUTBOUND : 0) |
      (x.facts.https ? Flags.HTTPS : 0) |
      (x.resHead ? Flags.HAS_RESPONSE : 0) |
      (x.switched ? Flags.SWITCHED : 0),
  );
  w.u16(x.facts.port);
  w.f64(x.startT);
  w.f64(x.endT);
  w.str(x.facts.host);
  w.u32(x.reqHead.length);
  w.bytes(x.reqHead);
  w.f64(x.reqBody.size);
  w.parts(x.reqBody.parts, x.reqBody.kept);
  const resHead = x.resHead ?? EMPTY;
  w.u32(resHead.length);
  w.bytes(resHead);
  w.f64(x.resBody.size);
  w.parts(x.resBody.parts, x.resBody.kept);
  w.str(x.error?.code ?? '');
  w.str(x.error?.message ?? '', true);
  const tags = x.tags ? Object.keys(x.tags) : [];
  w.u8(tags.length);
  for (const k of tags) {
    w.str(k);
    w.str(x.tags![k], true);
  }
  w.end(at);
}

export function writeOpen(w: TapWriter, o: H2Open): void {
  const at = w.begin(FrameKind.H2_OPEN);
  w.u32(o.conn);
  w.f64(o.t);
  w.u8((o.facts.outbound ? Flags.OUTBOUND : 0) | (o.facts.https ? Flags.HTTPS : 0));
  w.u16(o.facts.port);
  w.str(o.facts.host);
  w.u8(VIAS.indexOf(o.via));
  w.str(o.upstream.host);
  w.u16(o.upstream.port);
  w.u8(o.upstream.tls ? 1 : 0);
  if (o.upgrade) {
    w.u32(o.upgrade.head.length);
    w.bytes(o.upgrade.head);
    w.u32(o.upgrade.body.length);
    w.bytes(o.upgrade.body);
  }
  w.end(at);
}

/** Bytes an H2_OPEN frame takes. */
export const openSize = (o: H2Open): number =>
  FRAME_HEADER +
  20 +
  strSize(o.facts.host) +
  strSize(o.upstream.host) +
  (o.upgrade ? 8 + o.upgrade.head.length + o.upgrade.body.length : 0);

/** H2_DATA: `bytes` of direction `dir` (0: from the client) of connection `conn`. */
export function writeData(w: TapWriter, conn: number, dir: 0 | 1, t: number, bytes: Uint8Array): void {
  const at = w.begin(FrameKind.H2_DATA);
  w.u32(conn);
  w.u8(dir);
  w.f64(t);
  w.bytes(bytes);
  w.end(at);
}

export const DATA_OVERHEAD = FRAME_HEADER + 13;
export const GAP_SIZE = FRAME_HEADER + 21;

export function writeGap(w: TapWriter, conn: number, dir: 0 | 1, t: number, n: number): void {
  const at = w.begin(FrameKind.H2_GAP);
  w.u32(conn);
  w.u8(dir);
  w.f64(t);
  w.f64(n);
  w.end(at);
}

/** Largest H2_CLOSE frame: error codes and messages are cut to fit. */
export const CLOSE_RESERVE = FRAME_HEADER + 4 + 8 + 1 + 64 + 2 + 256;

export function writeClose(
  w: TapWriter,
  conn: number,
  t: number,
  error?: { code: string; message: string },
): void {
  const at = w.begin(FrameKind.H2_CLOSE);
  w.u32(conn);
  w.f64(t);
  w.str((error?.code ?? '').slice(0, 64));
  w.str((error?.message ?? '').slice(0, 85), true);
  w.end(at);
}

export function writeAbort(w: TapWriter, conn: number): void {
  const at = w.begin(FrameKind.H2_ABORT);
  w.u32(conn);
  w.end(at);
}

const EMPTY = Buffer.alloc(0);
