/**
 * HPACK header block decoding (RFC 7541) for one direction of one HTTP/2 connection. The
 * dynamic table is this direction's state: every block must be decoded, in order, even when its
 * stream is not recorded, or every later block is misread. Bounded: the table never grows past
 * `hardMaxTableSize`, and a header list past `maxHeaderListSize` is still decoded (to keep the
 * table in step) but its later fields are dropped and the list marked truncated.
 * Written here rather than taken from npm: `hpack.js` (2.1.6, 2016) and `hpack` (1.0.0) are
 * unmaintained and stream-shaped, and Node's own HPACK (inside nghttp2) is not exposed.
 */
import { STATIC_TABLE } from './hpack-tables.js';
import { HuffmanError, huffmanDecode } from './huffman.js';

/** A header field as octets (latin1 strings: one char per byte, so lengths are RFC sizes). */
export type HeaderField = [string, string];

export interface DecodedHeaders {
  headers: HeaderField[];
  /** Positions in `headers` of fields sent never-indexed (RFC 7541 6.2.3): meant to stay secret. */
  neverIndexed: number[];
  /** RFC 7541 size of the whole list (name + value + 32 per field), dropped fields included. */
  size: number;
  /** Fields were dropped past `maxHeaderListSize`. */
  truncated: boolean;
}

export class HpackError extends Error {}

/** Per-entry overhead in the table size (RFC 7541 4.1). */
const ENTRY_OVERHEAD = 32;
const STATIC_COUNT = STATIC_TABLE.length;

export interface HpackLimits {
  /** Largest dynamic table kept; a peer negotiating more makes decoding fail (default 64 KiB). */
  hardMaxTableSize?: number;
  /** Header list size past which fields are dropped (default 64 KiB). */
  maxHeaderListSize?: number;
  /** The table size both ends start from (4096, the HTTP/2 default). */
  initialTableSize?: number;
}

export class HpackDecoder {
  /** Dynamic table, oldest first from `head`; the newest entry is index 62. */
  private table: HeaderField[] = [];
  private head = 0;
  private tableSize = 0;
  /** Current maximum, as last set by a dynamic table size update. */
  private maxSize = 4096;
  /** What the decoding peer allowed (SETTINGS_HEADER_TABLE_SIZE): updates may not exceed it. */
  private allowed = 4096;
  private readonly hardMax: number;
  private readonly maxListSize: number;

  constructor(limits: HpackLimits = {}) {
    this.hardMax = limits.hardMaxTableSize ?? 64 * 1024;
    this.maxListSize = limits.maxHeaderListSize ?? 64 * 1024;
    this.maxSize = this.allowed = Math.min(limits.initialTableSize ?? 4096, this.hardMax);
  }

  /** The decoding peer advertised SETTINGS_HEADER_TABLE_SIZE (the encoder may use up to it). */
  setAllowedTableSize(n: number): void {
    // An encoder may still use the old, larger size until it sees the setting: keep the larger.
    this.allowed = Math.max(this.allowed, n);
  }

  /** Entries in the dynamic table, newest first (for tests and diagnostics). */
  dynamicTable(): HeaderField[] {
    return this.table.slice(this.head).reverse();
  }

  get dynamicTableSize(): number {
    return this.tableSize;
  }

  /** Decodes one complete header block (HEADERS/PUSH_PROMISE plus CONTINUATIONs). */
  decode(block: Uint8Array): DecodedHeaders {
    const out: DecodedHeaders = { headers: [], neverIndexed: [], size: 0, truncated: false };
    const r = { p: 0 };
    const end = block.length;
    while (r.p < end) {
      const b = block[r.p];
      if (b & 0x80) {
        // Indexed header field (6.1).
        const index = decodeInteger(block, r, 7);
        if (index === 0) throw new HpackError('indexed header field with index 0');
        this.emit(out, this.lookup(index), false);
      } else if (b & 0x40) {
        // Literal with incremental indexing (6.2.1).
        const field = this.readLiteral(block, r, 6);
        this.insert(field);
        this.emit(out, field, false);
      } else if (b & 0x20) {
        // Dynamic table size update (6.3).
        const size = decodeInteger(block, r, 5);
        if (size > this.allowed) {
          throw new HpackError(`table size update to ${size} exceeds the negotiated ${this.allowed}`);
        }
        if (size > this.hardMax) {
          throw new HpackError(`table size update to ${size} exceeds this decoder's limit ${this.hardMax}`);
        }
        this.maxSize = size;
        this.evict(0);
      } else {
        // Literal without indexing (0000) or never indexed (0001) (6.2.2, 6.2.3).
        const neverIndexed = (b & 0x10) !== 0;
        this.emit(out, this.readLiteral(block, r, 4), neverIndexed);
      }
    }
    return out;
  }

  private emit(out: DecodedHeaders, field: HeaderField, neverIndexed: boolean): void {
    out.size += field[0].length + field[1].length + ENTRY_OVERHEAD;
    if (out.size > this.maxListSize) {
      out.truncated = true;
      return;
    }
    if (neverIndexed) out.neverIndexed.push(out.headers.length);
    out.headers.push(field);
  }

  private lookup(index: number): HeaderField {
    if (index <= STATIC_COUNT) return STATIC_TABLE[index - 1] as HeaderField;
    const i = this.table.length - (index - STATIC_COUNT);
    if (i < this.head) throw new HpackError(`header index ${index} is past the table`);
    return this.table[i];
  }

  private readLiteral(block: Uint8Array, r: { p: number }, prefix: number): HeaderField {
    const nameIndex = decodeInteger(block, r, prefix);
    const name = nameIndex === 0 ? readString(block, r) : this.lookup(nameIndex)[0];
    return [name, readString(block, r)];
  }

  private insert(field: HeaderField): void {
    const size = field[0].length + field[1].length + ENTRY_OVERHEAD;
    if (size > this.maxSize) {
      // Larger than the whole table: it empties the table and is not added (4.4).
      this.evict(this.maxSize);
      return;
    }
    this.evict(size);
    this.table.push(field);
    this.tableSize += size;
  }

  /** Evicts oldest entries until `room` more bytes fit under the maximum. */
  private evict(room: number): void {
    const t = this.table;
    while (this.tableSize + room > this.maxSize && this.head < t.length) {
      const [n, v] = t[this.head++];
      this.tableSize -= n.length + v.length + ENTRY_OVERHEAD;
    }
    if (this.head === t.length) {
      this.table = [];
      this.head = 0;
    } else if (this.head > 64 && this.head * 2 > t.length) {
      this.table = t.slice(this.head);
      this.head = 0;
    }
  }
}

/** Reads an HPACK integer with an N-bit prefix (5.1) at `r.p`, advancing it. */
export function decodeInteger(block: Uint8Array, r: { p: number }, prefix: number): number {
  const max = (1 << prefix) - 1;
  let v = block[r.p++] & max;
  if (v < max) return v;
  let shift = 0;
  for (;;) {
    if (r.p >= block.length) throw new HpackError('integer runs past the header block');
    const b = block[r.p++];
    v += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if ((b & 0x80) === 0) break;
    if (shift > 28) throw new HpackError('integer too large');
  }
  return v;
}

function readString(block: Uint8Array, r: { p: number }): string {
  if (r.p >= block.length) throw new HpackError('string runs past the header block');
  const huffman = (block[r.p] & 0x80) !== 0;
  const len = decodeInteger(block, r, 7);
  const start = r.p;
  const end = start + len;
  if (end > block.length) throw new HpackError('string runs past the header block');
  r.p = end;
  if (!huffman) return Buffer.from(block.buffer, block.byteOffset + start, len).toString('latin1');
  try {
    return huffmanDecode(block, start, end);
  } catch (err) {
    if (err instanceof HuffmanError) throw new HpackError(err.message);
    throw err;
  }
}
