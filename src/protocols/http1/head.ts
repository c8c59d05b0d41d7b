/**
 * A whole HTTP/1.x head read into its parts: request line or status line and the header list
 * in order, case and repeats kept (obs-fold continuations joined). This is where pairs are
 * built; finding message boundaries needs only framing.ts.
 */
import { ParseError } from './framing.js';

export type HeaderPair = [string, string];

export interface MessageHead {
  /** Requests: the method and request target; responses: ''. */
  method: string;
  target: string;
  /** Responses: the status code and reason phrase; requests: 0 and ''. */
  status: number;
  statusText: string;
  /** `1.1` or `1.0`. */
  version: string;
  headers: HeaderPair[];
  /** -1 when there is no Content-Length. */
  contentLength: number;
  chunked: boolean;
  /** `Connection: upgrade` with an `Upgrade` header: the protocol asked for, else ''. */
  upgrade: string;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** The head's text (latin1, without its final CRLFCRLF) into its parts. Throws ParseError. */
export function parseHead(text: string, kind: 'request' | 'response'): MessageHead {
  return kind === 'request' ? parseRequestHead(text) : parseResponseHead(text);
}

export function parseRequestHead(text: string): MessageHead {
  const eol = lineEnd(text, 0);
  const sp1 = text.indexOf(' ');
  const sp2 = text.lastIndexOf(' ', eol - 1);
  if (sp1 <= 0 || sp1 >= eol || sp2 <= sp1) throw new ParseError('bad request line');
  const method = text.slice(0, sp1);
  const version = text.slice(sp2 + 1, eol);
  if (method === 'PRI' && version === 'HTTP/2.0') throw new ParseError('HTTP/2 connection preface', 'h2c');
  if (!TOKEN.test(method)) throw new ParseError('bad method');
  if (version !== 'HTTP/1.1' && version !== 'HTTP/1.0') throw new ParseError('bad HTTP version');
  const head = emptyHead(method, text.slice(sp1 + 1, sp2), 0, '', version.slice(5));
  readHeaders(text, eol, head);
  if (head.chunked === false && head.transferEncoding) throw new ParseError('request body length unknown');
  return head;
}

export function parseResponseHead(text: string): MessageHead {
  const eol = lineEnd(text, 0);
  const version = text.slice(0, 8);
  if ((version !== 'HTTP/1.1' && version !== 'HTTP/1.0') || text.charCodeAt(8) !== 32) {
    throw new ParseError('bad status line');
  }
  const code = text.slice(9, Math.min(12, eol));
  if (!/^[1-9]\d\d$/.test(code) || (eol > 12 && text.charCodeAt(12) !== 32)) {
    throw new ParseError('bad status code');
  }
  const head = emptyHead('', '', Number(code), eol > 13 ? text.slice(13, eol) : '', version.slice(5));
  readHeaders(text, eol, head);
  return head;
}

/** Where the line starting at `from` ends (its CRLF, or the end of the text). */
function lineEnd(text: string, from: number): number {
  const at = text.indexOf('\r\n', from);
  return at === -1 ? text.length : at;
}

/** `text.slice(from, to).trim()` without the intermediate string (the text is latin1). */
function trimmed(text: string, from: number, to: number): string {
  while (from < to && isSpace(text.charCodeAt(from))) from++;
  while (to > from && isSpace(text.charCodeAt(to - 1))) to--;
  return text.slice(from, to);
}

/** What String.prototype.trim removes, within latin1: tab to carriage return, space, no-break space. */
const isSpace = (c: number): boolean => c === 32 || (c >= 9 && c <= 13) || c === 0xa0;

type HeadInProgress = MessageHead & { transferEncoding?: boolean };

function emptyHead(
  method: string,
  target: string,
  status: number,
  statusText: string,
  version: string,
): HeadInProgress {
  return {
    method,
    target,
    status,
    statusText,
    version,
    headers: [],
    contentLength: -1,
    chunked: false,
    upgrade: '',
  };
}

/**
 * The header lines after the first line (which ends at `eol`) into `head`, with the framing
 * facts (length, chunked, upgrade) on the way. One scan of the text: no array of lines.
 */
function readHeaders(text: string, eol: number, head: HeadInProgress): void {
  const headers = head.headers;
  let connectionUpgrade = false;
  let upgrade = '';
  for (let prevEnd = eol; prevEnd < text.length;) {
    const lineStart = prevEnd + 2;
    const end = lineEnd(text, lineStart);
    prevEnd = end;
    const c0 = text.charCodeAt(lineStart);
    if (c0 === 32 || c0 === 9) {
      // obs-fold: a continuation of the previous value.
      if (headers.length === 0) throw new ParseError('continuation without a header');
      const last = headers[headers.length - 1];
      last[1] = `${last[1]} ${trimmed(text, lineStart, end)}`;
      continue;
    }
    const colon = text.indexOf(':', lineStart);
    if (colon <= lineStart || colon >= end) throw new ParseError('bad header line');
    const name = text.slice(lineStart, colon);
    const value = trimmed(text, colon + 1, end);
    headers.push([name, value]);
    const n = name.length;
    if (n !== 14 && n !== 17 && n !== 10 && n !== 7) continue;
    const lower = name.toLowerCase();
    if (lower === 'content-length') {
      for (const part of value.split(',')) {
        const v = part.trim();
        if (!/^\d{1,15}$/.test(v)) throw new ParseError('bad content-length');
        const len = Number(v);
        if (head.contentLength !== -1 && head.contentLength !== len) {
          throw new ParseError('conflicting content-length');
        }
        head.contentLength = len;
      }
    } else if (lower === 'transfer-encoding') {
      head.transferEncoding = true;
      const codings = value.toLowerCase().split(',');
      head.chunked = codings[codings.length - 1].trim() === 'chunked';
    } else if (lower === 'connection') {
      if (/(^|,)\s*upgrade\s*(,|$)/i.test(value)) connectionUpgrade = true;
    } else if (lower === 'upgrade') upgrade = value;
  }
  // Transfer-Encoding overrides Content-Length (RFC 9112 6.3).
  if (head.transferEncoding) head.contentLength = -1;
  if (connectionUpgrade && upgrade) head.upgrade = upgrade;
}
