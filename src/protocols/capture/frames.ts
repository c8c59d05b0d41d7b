/**
 * The tap protocol between a sidecar and the forwarder (docs/contracts.md): a batch is a run of
 * binary frames, each `u8 type, u32 length, payload`. An HTTP/1.1 exchange travels whole in one
 * EXCHANGE frame (raw heads, capped bodies with their wire sizes, times), so it needs no state
 * on the forwarder; an HTTP/2 connection travels as H2_OPEN, its bytes by direction (H2_DATA,
 * with H2_GAP counts where the sidecar skipped body bytes past its cap) and H2_CLOSE or H2_ABORT.
 * Numbers are little-endian; times are wall-clock milliseconds (f64); sizes are f64. Frames are
 * written by writer.ts and read here.
 */

export const FrameKind = {
  EXCHANGE: 1,
  H2_OPEN: 2,
  H2_DATA: 3,
  H2_GAP: 4,
  H2_CLOSE: 5,
  H2_ABORT: 6,
} as const;

export const TAP_CONTENT_TYPE = 'application/x-reprise-tap';
/** Frame header: type and payload length. */
export const FRAME_HEADER = 5;

/** What a connection is, as the sidecar saw it (its side of the facts a pair needs). */
export interface ConnFacts {
  outbound: boolean;
  https: boolean;
  /** Used when the request names no host (no Host header, no :authority). */
  host: string;
  /** Used when the request's authority carries no port. */
  port: number;
}

export interface CapturedMessageBody {
  /** The kept bytes (at most the body cap), and the size on the wire. */
  bytes: Buffer;
  size: number;
}

export interface TapExchange {
  conn: number;
  facts: ConnFacts;
  startT: number;
  endT: number;
  /** Request head without its final CRLFCRLF. */
  reqHead: Buffer;
  reqBody: CapturedMessageBody;
  /** Final response head (1xx skipped); absent when none came. */
  resHead?: Buffer;
  resBody: CapturedMessageBody;
  /** The connection switched protocols after this exchange (101, or a CONNECT's 2xx). */
  switched: boolean;
  error?: { code: string; message: string };
  tags?: Record<string, string>;
}

export type H2Via = 'prior-knowledge' | 'upgrade' | 'alpn';
export const VIAS: H2Via[] = ['prior-knowledge', 'upgrade', 'alpn'];

export interface H2Open {
  conn: number;
  t: number;
  facts: ConnFacts;
  via: H2Via;
  /** Where the sidecar connected to (gRPC reflection reads schemas there). */
  upstream: { host: string; port: number; tls: boolean };
  /** `Upgrade: h2c`: the HTTP/1.1 request that became stream 1. */
  upgrade?: { head: Buffer; body: Buffer };
}

export type TapFrame =
  | { kind: 'exchange'; exchange: TapExchange }
  | { kind: 'h2-open'; open: H2Open }
  | { kind: 'h2-data'; conn: number; dir: 0 | 1; t: number; bytes: Buffer }
  | { kind: 'h2-gap'; conn: number; dir: 0 | 1; t: number; n: number }
  | { kind: 'h2-close'; conn: number; t: number; error?: { code: string; message: string } }
  | { kind: 'h2-abort'; conn: number };

export class TapFormatError extends Error {}

/**
 * Throws TapFormatError when a frame of the batch does not parse, reading each field as
 * readFrames does but keeping no bytes or text (a cheap first pass: nothing is taken from a
 * batch that is not whole).
 */
export function checkFrames(batch: Buffer): void {
  for (const _ of readFrames(batch, true));
}

/** Reads frames from a batch, in order. Throws TapFormatError on a frame that does not parse. */
export function* readFrames(batch: Buffer, checkOnly = false): Generator<TapFrame> {
  let p = 0;
  while (p < batch.length) {
    if (p + FRAME_HEADER > batch.length) throw new TapFormatError(`frame header cut at byte ${p}`);
    const kind = batch[p];
    const len = batch.readUInt32LE(p + 1);
    const start = p + FRAME_HEADER;
    const end = start + len;
    if (end > batch.length)
      throw new TapFormatError(`frame of ${len} bytes at byte ${p} runs past the batch`);
    p = end;
    const frame = readFrame(kind, new Reader(batch, start, end, checkOnly));
    if (frame) yield frame;
  }
}

/** Unknown kinds are skipped: a newer sidecar may send frames this forwarder does not know. */
function readFrame(kind: number, r: Reader): TapFrame | undefined {
  switch (kind) {
    case FrameKind.EXCHANGE:
      return { kind: 'exchange', exchange: readExchange(r) };
    case FrameKind.H2_OPEN:
      return { kind: 'h2-open', open: readOpen(r) };
    case FrameKind.H2_DATA: {
      const conn = r.u32();
      const dir = r.u8() ? 1 : 0;
      const t = r.f64();
      return { kind: 'h2-data', conn, dir, t, bytes: r.rest() };
    }
    case FrameKind.H2_GAP:
      return { kind: 'h2-gap', conn: r.u32(), dir: r.u8() ? 1 : 0, t: r.f64(), n: r.f64() };
    case FrameKind.H2_CLOSE: {
      const conn = r.u32();
      const t = r.f64();
      const code = r.str();
      const message = r.str(true);
      return { kind: 'h2-close', conn, t, ...(code && { error: { code, message } }) };
    }
    case FrameKind.H2_ABORT:
      return { kind: 'h2-abort', conn: r.u32() };
    default:
      return undefined;
  }
}

/** EXCHANGE and H2_OPEN flags. */
export const Flags = { OUTBOUND: 1, HTTPS: 2, HAS_RESPONSE: 4, SWITCHED: 8 } as const;

function readExchange(r: Reader): TapExchange {
  const conn = r.u32();
  const flags = r.u8();
  const port = r.u16();
  const startT = r.f64();
  const endT = r.f64();
  const host = r.str();
  const reqHead = r.bytes(r.u32());
  const reqSize = r.f64();
  const reqKept = r.bytes(r.u32());
  const resHead = r.bytes(r.u32());
  const resSize = r.f64();
  const resKept = r.bytes(r.u32());
  const code = r.str();
  const message = r.str(true);
  const nTags = r.u8();
  let tags: Record<string, string> | undefined;
  for (let i = 0; i < nTags; i++) (tags ??= {})[r.str()] = r.str(true);
  const ex: TapExchange = {
    conn,
    facts: { outbound: (flags & Flags.OUTBOUND) !== 0, https: (flags & Flags.HTTPS) !== 0, host, port },
    startT,
    endT,
    reqHead,
    reqBody: { bytes: reqKept, size: reqSize },
    resBody: { bytes: resKept, size: resSize },
    switched: (flags & Flags.SWITCHED) !== 0,
  };
  if (flags & Flags.HAS_RESPONSE) ex.resHead = resHead;
  if (code) ex.error = { code, message };
  if (tags) ex.tags = tags;
  return ex;
}

function readOpen(r: Reader): H2Open {
  const conn = r.u32();
  const t = r.f64();
  const flags = r.u8();
  const port = r.u16();
  const host = r.str();
  const via = VIAS[r.u8()];
  if (!via) throw new TapFormatError('unknown H2_OPEN via');
  const upstream = { host: r.str(), port: r.u16(), tls: r.u8() === 1 };
  const open: H2Open = {
    conn,
    t,
    facts: { outbound: (flags & Flags.OUTBOUND) !== 0, https: (flags & Flags.HTTPS) !== 0, host, port },
    via,
    upstream,
  };
  if (!r.done) open.upgrade = { head: r.bytes(r.u32()), body: r.bytes(r.u32()) };
  return open;
}

const NO_BYTES = Buffer.alloc(0);

class Reader {
  constructor(
    private readonly b: Buffer,
    private p: number,
    private readonly end: number,
    /** Check the layout only: bytes and text read as empty. */
    private readonly checkOnly = false,
  ) {}

  get done(): boolean {
    return this.p >= this.end;
  }

  private need(n: number): number {
    const at = this.p;
    if (at + n > this.end) throw new TapFormatError('frame shorter than its fields');
    this.p += n;
    return at;
  }

  u8(): number {
    return this.b[this.need(1)];
  }

  u16(): number {
    return this.b.readUInt16LE(this.need(2));
  }

  u32(): number {
    return this.b.readUInt32LE(this.need(4));
  }

  f64(): number {
    return this.b.readDoubleLE(this.need(8));
  }

  bytes(n: number): Buffer {
    const at = this.need(n);
    return this.checkOnly ? NO_BYTES : this.b.subarray(at, at + n);
  }

  str(wide = false): string {
    const n = wide ? this.u16() : this.u8();
    const at = this.need(n);
    return this.checkOnly ? '' : this.b.toString('utf8', at, at + n);
  }

  rest(): Buffer {
    const at = this.p;
    this.p = this.end;
    return this.checkOnly ? NO_BYTES : this.b.subarray(at, this.end);
  }
}
