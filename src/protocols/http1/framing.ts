/**
 * What finding message boundaries needs from an HTTP/1.x head, read from its bytes without
 * building a string per header: the request line or status code, the version, and the framing
 * headers (Content-Length, Transfer-Encoding, Connection: upgrade with Upgrade). The checks that
 * decide whether the bytes are HTTP/1.x at all are made here, so capture stops early on what it
 * cannot read; the full header list is read later, where pairs are built (head.ts).
 */

export class ParseError extends Error {
  /** `h2c` when the bytes are an HTTP/2 connection preface, `malformed` otherwise. */
  constructor(
    message: string,
    readonly code: 'malformed' | 'h2c' = 'malformed',
  ) {
    super(message);
  }
}

export interface HeadFacts {
  /** Requests: the method; responses: ''. */
  method: string;
  /** Requests: where the request target is in the head's bytes (offsets from its start). */
  targetStart: number;
  targetEnd: number;
  /** Responses: the status code; requests: 0. */
  status: number;
  /** `1.1` or `1.0`. */
  version: string;
  /** -1 when there is no Content-Length (or Transfer-Encoding overrides it). */
  contentLength: number;
  chunked: boolean;
  /** `Connection: upgrade` with an `Upgrade` header: the protocol asked for, else ''. */
  upgrade: string;
}

export const MAX_HEAD_BYTES = 64 * 1024;

/** RFC 9110 token characters. */
const TOKEN_CHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
  TOKEN_CHAR[c.charCodeAt(0)] = 1;

/** Sets every field to its value before a head is read (the one list of those values). */
function clearHeadFacts(facts: HeadFacts): HeadFacts {
  facts.method = '';
  facts.targetStart = 0;
  facts.targetEnd = 0;
  facts.status = 0;
  facts.version = '';
  facts.contentLength = -1;
  facts.chunked = false;
  facts.upgrade = '';
  return facts;
}

export const newHeadFacts = (): HeadFacts => clearHeadFacts({} as HeadFacts);

/**
 * Reads the head in `b[start, end)` (without its final CRLFCRLF) into `facts` (the caller's,
 * reused per direction). Throws ParseError.
 */
export function scanHead(
  b: Buffer,
  start: number,
  end: number,
  kind: 'request' | 'response',
  facts: HeadFacts,
): HeadFacts {
  const lineEnd = lineEndAt(b, start, end);
  clearHeadFacts(facts);
  if (kind === 'request') requestLine(b, start, lineEnd, facts);
  else statusLine(b, start, lineEnd, facts);
  framingHeaders(b, lineEnd + 2, end, facts, kind);
  return facts;
}

/** Where the line starting at `p` ends (its CRLF, or `end`). A byte loop: lines are short. */
function lineEndAt(b: Buffer, p: number, end: number): number {
  while (p < end && !(b[p] === 13 && b[p + 1] === 10)) p++;
  return p < end ? p : end;
}

const HTTP1_ = Buffer.from('HTTP/1.');

/** `HTTP/1.0` or `HTTP/1.1` at `p`: the minor version digit's code, else 0. */
function http1At(b: Buffer, p: number): number {
  for (let i = 0; i < 7; i++) if (b[p + i] !== HTTP1_[i]) return 0;
  const minor = b[p + 7];
  return minor === 49 || minor === 48 ? minor : 0;
}

/** The usual methods without a string copy each time. */
const METHODS = ['GET', 'POST', 'PUT', 'HEAD', 'DELETE', 'PATCH', 'OPTIONS', 'CONNECT'].map((m) => ({
  name: m,
  bytes: Buffer.from(m),
}));

function method(b: Buffer, start: number, end: number): string {
  for (const m of METHODS) {
    if (m.bytes.length !== end - start) continue;
    let i = 0;
    while (i < m.bytes.length && b[start + i] === m.bytes[i]) i++;
    if (i === m.bytes.length) return m.name;
  }
  return b.toString('latin1', start, end);
}

function requestLine(b: Buffer, start: number, end: number, facts: HeadFacts): void {
  let sp1 = start;
  while (sp1 < end && b[sp1] !== 32) sp1++;
  let sp2 = end - 1;
  while (sp2 > sp1 && b[sp2] !== 32) sp2--;
  if (sp1 === start || sp1 >= end || sp2 <= sp1) throw new ParseError('bad request line');
  const v = sp2 + 1;
  const minor = end - v === 8 ? http1At(b, v) : 0;
  if (!minor && b.toString('latin1', start, sp1) === 'PRI' && b.toString('latin1', v, end) === 'HTTP/2.0')
    throw new ParseError('HTTP/2 connection preface', 'h2c');
  for (let i = start; i < sp1; i++) if (TOKEN_CHAR[b[i]] === 0) throw new ParseError('bad method');
  if (!minor) throw new ParseError('bad HTTP version');
  facts.version = minor === 49 ? '1.1' : '1.0';
  facts.method = method(b, start, sp1);
  facts.targetStart = sp1 + 1 - start;
  facts.targetEnd = sp2 - start;
}

function statusLine(b: Buffer, start: number, end: number, facts: HeadFacts): void {
  const minor = http1At(b, start);
  if (end - start < 12 || !minor || b[start + 8] !== 32) throw new ParseError('bad status line');
  const d0 = b[start + 9] - 48;
  const d1 = b[start + 10] - 48;
  const d2 = b[start + 11] - 48;
  if (d0 < 1 || d0 > 9 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9 || (end - start > 12 && b[start + 12] !== 32))
    throw new ParseError('bad status code');
  facts.status = d0 * 100 + d1 * 10 + d2;
  facts.version = minor === 49 ? '1.1' : '1.0';
}

/** Lowercase names of the framing headers, as bytes. */
const CONTENT_LENGTH = Buffer.from('content-length');
const TRANSFER_ENCODING = Buffer.from('transfer-encoding');
const CONNECTION = Buffer.from('connection');
const UPGRADE = Buffer.from('upgrade');

/** `b[p, p + name.length)` equals the lowercase `name`, in any case. */
function nameIs(b: Buffer, p: number, name: Buffer): boolean {
  for (let i = 0; i < name.length; i++) {
    const c = b[p + i];
    const n = name[i];
    if (c !== n && (n < 97 || n > 122 || c !== n - 32)) return false;
  }
  return true;
}

/**
 * One pass over the header lines, reading the four that frame a message. Each line must have a
 * name before a colon; values are read only for those four (Content-Length from its digits).
 */
function framingHeaders(b: Buffer, pos: number, end: number, facts: HeadFacts, kind: string): void {
  let seenHeader = false;
  let transferEncoding = false;
  let connectionUpgrade = false;
  let upgrade = '';
  while (pos < end) {
    const c0 = b[pos];
    if (c0 === 32 || c0 === 9) {
      // obs-fold: a continuation of the previous value (read in full by head.ts).
      if (!seenHeader) throw new ParseError('continuation without a header');
      pos = lineEndAt(b, pos, end) + 2;
      continue;
    }
    let colon = pos;
    while (colon < end && b[colon] !== 58 && !(b[colon] === 13 && b[colon + 1] === 10)) colon++;
    if (colon === end || b[colon] !== 58 || colon === pos) throw new ParseError('bad header line');
    seenHeader = true;
    const n = colon - pos;
    const le = lineEndAt(b, colon + 1, end);
    if (n === 14 && nameIs(b, pos, CONTENT_LENGTH)) contentLength(b, colon + 1, le, facts);
    else if (n === 17 && nameIs(b, pos, TRANSFER_ENCODING)) {
      transferEncoding = true;
      const codings = value(b, colon + 1, le)
        .toLowerCase()
        .split(',');
      facts.chunked = codings[codings.length - 1].trim() === 'chunked';
    } else if (n === 10 && nameIs(b, pos, CONNECTION)) {
      if (hasToken(b, colon + 1, le, UPGRADE)) connectionUpgrade = true;
    } else if (n === 7 && nameIs(b, pos, UPGRADE)) upgrade = value(b, colon + 1, le);
    pos = le + 2;
  }
  // Transfer-Encoding overrides Content-Length (RFC 9112 6.3).
  if (transferEncoding) {
    facts.contentLength = -1;
    if (kind === 'request' && !facts.chunked) throw new ParseError('request body length unknown');
  }
  if (connectionUpgrade && upgrade) facts.upgrade = upgrade;
}

/** `Content-Length: 12` (or the same value repeated, comma-separated), from its bytes. */
function contentLength(b: Buffer, from: number, to: number, facts: HeadFacts): void {
  let p = from;
  for (;;) {
    while (p < to && (b[p] === 32 || b[p] === 9)) p++;
    let len = 0;
    let digits = 0;
    while (p < to && b[p] >= 48 && b[p] <= 57) {
      len = len * 10 + b[p++] - 48;
      digits++;
    }
    while (p < to && (b[p] === 32 || b[p] === 9)) p++;
    if (digits === 0 || digits > 15 || (p < to && b[p] !== 44)) throw new ParseError('bad content-length');
    if (facts.contentLength !== -1 && facts.contentLength !== len)
      throw new ParseError('conflicting content-length');
    facts.contentLength = len;
    if (p === to) return;
    p++; // the comma
  }
}

/** The comma-separated list in `b[from, to)` holds the lowercase token `token`, in any case. */
function hasToken(b: Buffer, from: number, to: number, token: Buffer): boolean {
  for (let p = from; p + token.length <= to; p++) {
    if (!nameIs(b, p, token)) continue;
    let before = p - 1;
    while (before >= from && (b[before] === 32 || b[before] === 9)) before--;
    let after = p + token.length;
    while (after < to && (b[after] === 32 || b[after] === 9)) after++;
    if ((before < from || b[before] === 44) && (after === to || b[after] === 44)) return true;
  }
  return false;
}

function value(b: Buffer, from: number, to: number): string {
  return b.toString('latin1', from, to).trim();
}
