/**
 * The HPACK Huffman code (RFC 7541 5.2, Appendix B): decoding through a tree of 256-way nodes
 * read a byte at a time (the layout of golang.org/x/net's hpack), and encoding, which the tests
 * and the gRPC tools use to build header blocks.
 */
import { HUFFMAN_CODES, HUFFMAN_LENGTHS } from './hpack-tables.js';

interface HuffmanNode {
  /** Inner node: 256 children indexed by the next 8 bits; leaf: undefined. */
  children: (HuffmanNode | undefined)[] | undefined;
  sym: number;
  /** Leaf: the bits of its code that the last step consumed (1-8). */
  codeLen: number;
}

function newInner(): HuffmanNode {
  return { children: new Array<HuffmanNode | undefined>(256), sym: 0, codeLen: 0 };
}

function buildTree(): HuffmanNode {
  const root = newInner();
  for (let sym = 0; sym < 256; sym++) {
    const code = HUFFMAN_CODES[sym];
    let len = HUFFMAN_LENGTHS[sym];
    let cur = root;
    while (len > 8) {
      len -= 8;
      const i = (code >>> len) & 0xff;
      cur = cur.children![i] ??= newInner();
    }
    // The code's last `len` bits fill the high bits of every index that starts with them.
    const shift = 8 - len;
    const start = (code << shift) & 0xff;
    const leaf: HuffmanNode = { children: undefined, sym, codeLen: len };
    for (let i = start; i < start + (1 << shift); i++) cur.children![i] = leaf;
  }
  return root;
}

const ROOT = buildTree();

export class HuffmanError extends Error {}

/** Decodes `bytes[start, end)` into a latin1 string (one char per octet). Throws HuffmanError. */
export function huffmanDecode(bytes: Uint8Array, start: number, end: number): string {
  // The shortest code is 5 bits: at most 8/5 symbols per input byte.
  const out = Buffer.allocUnsafe(Math.ceil(((end - start) * 8) / 5));
  let o = 0;
  let node = ROOT;
  // `cur` holds `cbits` undecoded bits; `sbits` counts the bits of the symbol in progress.
  let cur = 0;
  let cbits = 0;
  let sbits = 0;
  for (let p = start; p < end; p++) {
    cur = ((cur << 8) | bytes[p]) & 0xffff;
    cbits += 8;
    sbits += 8;
    while (cbits >= 8) {
      const next: HuffmanNode | undefined = node.children![(cur >>> (cbits - 8)) & 0xff];
      if (next === undefined) throw new HuffmanError('invalid Huffman code');
      if (next.children === undefined) {
        out[o++] = next.sym;
        cbits -= next.codeLen;
        node = ROOT;
        sbits = cbits;
      } else {
        node = next;
        cbits -= 8;
      }
    }
  }
  while (cbits > 0) {
    const next = node.children![(cur << (8 - cbits)) & 0xff];
    if (next === undefined || next.children !== undefined || next.codeLen > cbits) break;
    out[o++] = next.sym;
    cbits -= next.codeLen;
    node = ROOT;
    sbits = cbits;
  }
  // What is left must be a prefix of EOS (all ones), shorter than 8 bits (RFC 7541 5.2).
  if (sbits > 7) throw new HuffmanError('Huffman padding longer than 7 bits');
  const mask = (1 << cbits) - 1;
  if ((cur & mask) !== mask) throw new HuffmanError('Huffman padding is not EOS');
  return out.toString('latin1', 0, o);
}

/** The Huffman length in bytes of a latin1 string. */
export function huffmanLength(s: string): number {
  let bits = 0;
  for (let i = 0; i < s.length; i++) bits += HUFFMAN_LENGTHS[s.charCodeAt(i) & 0xff];
  return (bits + 7) >> 3;
}

/** Encodes a latin1 string, padded with the EOS prefix. */
export function huffmanEncode(s: string): Buffer {
  const out = Buffer.allocUnsafe(huffmanLength(s));
  let o = 0;
  // Bits waiting to be written, kept under 32 by writing whole bytes as they fill.
  let acc = 0;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i) & 0xff;
    let len = HUFFMAN_LENGTHS[c];
    const code = HUFFMAN_CODES[c];
    while (len > 0) {
      const take = Math.min(len, 8);
      len -= take;
      acc = ((acc << take) | ((code >>> len) & ((1 << take) - 1))) >>> 0;
      n += take;
      while (n >= 8) {
        n -= 8;
        out[o++] = (acc >>> n) & 0xff;
      }
      acc &= (1 << n) - 1;
    }
  }
  if (n > 0) out[o++] = ((acc << (8 - n)) | (0xff >> n)) & 0xff;
  return out;
}
