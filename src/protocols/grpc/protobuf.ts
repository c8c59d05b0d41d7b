/**
 * Protocol Buffers wire format without a schema: bytes into fields keyed by number, and back.
 * Never lossy: a length-delimited value is read as a nested message only when it parses to
 * its end with canonical varints, so encoding the decoded form gives back the original bytes;
 * anything else stays text (valid UTF-8) or raw bytes (base64). Masking a string in the decoded
 * form and encoding it again gives a valid message (lengths are recomputed).
 */
import { isUtf8 } from 'node:buffer';

import type { ProtoField, ProtoInt } from '../../model/h2.js';

export type { ProtoField, ProtoInt } from '../../model/h2.js';

export class ProtoEncodeError extends Error {}

/** Nested messages deeper than this stay bytes (bounds the work on hostile input). */
const MAX_DEPTH = 32;
const TWO_32 = 2 ** 32;

/** The fields of a message, or undefined when `bytes` are not a canonical protobuf message. */
export function decodeMessage(bytes: Uint8Array): ProtoField[] | undefined {
  return decodeFields(bytes, 0, bytes.length, 0);
}

function decodeFields(b: Uint8Array, start: number, end: number, depth: number): ProtoField[] | undefined {
  const fields: ProtoField[] = [];
  const r = { p: start };
  while (r.p < end) {
    const tag = readVarint(b, r, end);
    if (tag === undefined || typeof tag === 'string' || tag >= TWO_32) return undefined;
    const n = Math.floor(tag / 8);
    const wt = tag & 7;
    if (n === 0) return undefined;
    if (wt === 0) {
      const v = readVarint(b, r, end);
      if (v === undefined) return undefined;
      fields.push({ n, t: 'varint', v });
    } else if (wt === 1) {
      if (r.p + 8 > end) return undefined;
      fields.push({ n, t: 'fixed64', v: uint64(readU32(b, r.p + 4), readU32(b, r.p)) });
      r.p += 8;
    } else if (wt === 5) {
      if (r.p + 4 > end) return undefined;
      fields.push({ n, t: 'fixed32', v: readU32(b, r.p) });
      r.p += 4;
    } else if (wt === 2) {
      const len = readVarint(b, r, end);
      if (len === undefined || typeof len === 'string' || r.p + len > end) return undefined;
      fields.push(lengthDelimited(n, b, r.p, r.p + len, depth));
      r.p += len;
    } else return undefined; // groups (3, 4) are deprecated; 6 and 7 do not exist
  }
  return fields;
}

/** The most plausible reading of a length-delimited value that still encodes back exactly. */
function lengthDelimited(n: number, b: Uint8Array, s: number, e: number, depth: number): ProtoField {
  const slice = Buffer.from(b.buffer, b.byteOffset + s, e - s);
  if (isPrintable(slice)) return { n, t: 'string', v: slice.toString('utf8') };
  if (depth < MAX_DEPTH) {
    const nested = decodeFields(b, s, e, depth + 1);
    if (nested) return { n, t: 'message', v: nested };
  }
  // Control characters make text unlikely: small varints (enums, ids) are the better guess.
  const packed = smallVarints(b, s, e);
  if (packed) return { n, t: 'packed', v: packed };
  if (isUtf8(slice)) return { n, t: 'string', v: slice.toString('utf8') };
  return { n, t: 'bytes', v: slice.toString('base64') };
}

/** Valid UTF-8 without control characters other than tab, CR and LF. */
function isPrintable(bytes: Buffer): boolean {
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    if ((c < 0x20 && c !== 9 && c !== 10 && c !== 13) || c === 0x7f) return false;
  }
  return isUtf8(bytes);
}

/** Packed varints when every one is canonical and under 2^21 (what small ints and enums look like). */
function smallVarints(b: Uint8Array, s: number, e: number): number[] | undefined {
  const all = readVarints(b, s, e);
  return all?.every((v) => typeof v === 'number' && v < 2 ** 21) ? (all as number[]) : undefined;
}

function readVarints(b: Uint8Array, s: number, e: number): ProtoInt[] | undefined {
  const out: ProtoInt[] = [];
  const r = { p: s };
  while (r.p < e) {
    const v = readVarint(b, r, e);
    if (v === undefined) return undefined;
    out.push(v);
  }
  return out;
}

/** Every varint in `bytes` (a packed repeated field's payload), or undefined when they are not all canonical. */
export function readPackedVarints(bytes: Uint8Array): ProtoInt[] | undefined {
  return readVarints(bytes, 0, bytes.length);
}

/** The payload of a length-delimited field, whatever it was read as (string, bytes, message, packed). */
export function payloadBytes(f: ProtoField): Buffer {
  switch (f.t) {
    case 'string':
      return Buffer.from(f.v, 'utf8');
    case 'bytes':
      return Buffer.from(f.v, 'base64');
    case 'message':
      return encodeMessage(f.v);
    case 'packed': {
      const w = new Writer();
      for (const v of f.v) w.varint(checkInt(v, String(f.n)));
      return w.done();
    }
    default:
      throw new ProtoEncodeError(`field ${f.n}: a ${f.t} is not length-delimited`);
  }
}

function readU32(b: Uint8Array, p: number): number {
  return (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16)) + b[p + 3] * 0x1000000;
}

function uint64(hi: number, lo: number): ProtoInt {
  if (hi < 0x200000) return hi * TWO_32 + lo;
  return ((BigInt(hi) << 32n) | BigInt(lo)).toString();
}

/** A canonical varint (no redundant trailing zero groups, at most 64 bits), or undefined. */
function readVarint(b: Uint8Array, r: { p: number }, end: number): ProtoInt | undefined {
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < 10; i++) {
    if (r.p >= end) return undefined;
    const byte = b[r.p++];
    const bits = byte & 0x7f;
    if (i < 4) lo |= bits << (7 * i);
    else if (i === 4) {
      lo |= (bits & 0x0f) << 28;
      hi = bits >> 4;
    } else hi |= bits << (7 * i - 32);
    if ((byte & 0x80) === 0) {
      if (i > 0 && byte === 0) return undefined; // non-canonical: would not encode back the same
      if (i === 9 && byte > 1) return undefined; // more than 64 bits
      return uint64(hi >>> 0, lo >>> 0);
    }
  }
  return undefined;
}

/** Encodes fields (as decoded, possibly edited) into message bytes. Throws ProtoEncodeError. */
export function encodeMessage(fields: ProtoField[]): Buffer {
  const w = new Writer();
  writeFields(w, fields, '');
  return w.done();
}

function writeFields(w: Writer, fields: ProtoField[], path: string): void {
  for (const f of fields) {
    const where = `${path}${f.name ?? f.n}`;
    if (!Number.isInteger(f.n) || f.n < 1 || f.n > 0x1fffffff) {
      throw new ProtoEncodeError(`field ${where}: number must be an integer from 1 to 2^29-1`);
    }
    switch (f.t) {
      case 'varint':
        w.tag(f.n, 0);
        w.varint(checkInt(f.v, where));
        break;
      case 'fixed64': {
        w.tag(f.n, 1);
        const v = checkInt(f.v, where);
        if (typeof v === 'number') {
          w.u32(v % TWO_32);
          w.u32(Math.floor(v / TWO_32));
        } else {
          const big = BigInt(v);
          w.u32(Number(big & 0xffffffffn));
          w.u32(Number(big >> 32n));
        }
        break;
      }
      case 'fixed32':
        if (!Number.isInteger(f.v) || f.v < 0 || f.v >= TWO_32) {
          throw new ProtoEncodeError(`field ${where}: fixed32 value must be an integer from 0 to 2^32-1`);
        }
        w.tag(f.n, 5);
        w.u32(f.v);
        break;
      case 'message': {
        if (!Array.isArray(f.v))
          throw new ProtoEncodeError(`field ${where}: message value must be a field list`);
        const inner = new Writer();
        writeFields(inner, f.v, `${where}.`);
        w.bytes(f.n, inner.done());
        break;
      }
      case 'string':
        if (typeof f.v !== 'string')
          throw new ProtoEncodeError(`field ${where}: string value must be a string`);
        w.bytes(f.n, Buffer.from(f.v, 'utf8'));
        break;
      case 'bytes':
        if (typeof f.v !== 'string') throw new ProtoEncodeError(`field ${where}: bytes value must be base64`);
        w.bytes(f.n, Buffer.from(f.v, 'base64'));
        break;
      case 'packed':
        if (!Array.isArray(f.v)) throw new ProtoEncodeError(`field ${where}: packed value must be a list`);
        w.bytes(f.n, payloadBytes(f));
        break;
      default:
        throw new ProtoEncodeError(`field ${where}: unknown type "${(f as { t: unknown }).t}"`);
    }
  }
}

/** `v` when it is an unsigned 64-bit integer (a safe number or a decimal string), else throws. */
function checkInt(v: ProtoInt, where: string): ProtoInt {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v;
  if (typeof v === 'string' && /^\d{1,20}$/.test(v) && BigInt(v) < 1n << 64n) return v;
  throw new ProtoEncodeError(`field ${where}: expected an unsigned 64-bit integer, got ${JSON.stringify(v)}`);
}

/** A growing byte buffer. */
class Writer {
  private buf = Buffer.allocUnsafe(64);
  private len = 0;

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  tag(n: number, wt: number): void {
    this.varint(n * 8 + wt);
  }

  /** A safe integer number, or a decimal string (values past 2^53). */
  varint(v: ProtoInt): void {
    this.room(10);
    if (typeof v === 'number') {
      while (v >= 0x80) {
        this.buf[this.len++] = (v % 0x80) | 0x80;
        v = Math.floor(v / 0x80);
      }
      this.buf[this.len++] = v;
      return;
    }
    let big = BigInt(v);
    while (big >= 0x80n) {
      this.buf[this.len++] = Number(big & 0x7fn) | 0x80;
      big >>= 7n;
    }
    this.buf[this.len++] = Number(big);
  }

  u32(v: number): void {
    this.room(4);
    this.buf.writeUInt32LE(v >>> 0, this.len);
    this.len += 4;
  }

  bytes(n: number, data: Buffer): void {
    this.tag(n, 2);
    this.varint(data.length);
    this.room(data.length);
    data.copy(this.buf, this.len);
    this.len += data.length;
  }

  done(): Buffer {
    return this.buf.subarray(0, this.len);
  }
}
