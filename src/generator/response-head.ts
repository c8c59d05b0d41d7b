/**
 * An HTTP/1.x response head (status line and header lines) parsed into what the framing needs
 * and the header list the observed file keeps. A replay's responses mostly repeat the same
 * head byte for byte (same endpoint, same length, same Date within a second), so parsed heads
 * are kept by their text in a small table: a repeated head costs a lookup, not a parse. The
 * header list of a kept head is shared by every response that had it: read it, never change it.
 */
import type { HeaderList } from '../model/traffic.js';

export interface ResponseHead {
  status: number;
  http10: boolean;
  /** In order and case as received; shared, read-only. */
  headers: HeaderList;
  /** Lowercase; '' when absent. */
  connection: string;
  contentLength: string | undefined;
  /** Lowercase. */
  transferEncoding: string | undefined;
  /** Lowercase. */
  contentEncoding: string | undefined;
}

/** Distinct heads kept; the table is emptied when full (a replay rarely has this many at once). */
const KEPT_HEADS = 256;
const kept = new Map<string, ResponseHead>();

/** The head in `text` (without the final CRLFCRLF), or what is wrong with it. */
export function responseHead(text: string): ResponseHead | string {
  const known = kept.get(text);
  if (known) return known;
  const head = parseHead(text);
  if (typeof head !== 'string') {
    if (kept.size >= KEPT_HEADS) kept.clear();
    kept.set(text, head);
  }
  return head;
}

function parseHead(text: string): ResponseHead | string {
  const lines = text.split('\r\n');
  const statusLine = lines[0];
  if (!statusLine.startsWith('HTTP/1.') || statusLine[8] !== ' ') return 'bad status line';
  const status = Number(statusLine.slice(9, 12));
  if (!Number.isInteger(status) || status < 100 || status > 999) return 'bad status code';
  const head: ResponseHead = {
    status,
    http10: statusLine[7] === '0',
    headers: [],
    connection: '',
    contentLength: undefined,
    transferEncoding: undefined,
    contentEncoding: undefined,
  };
  const headers = head.headers;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const colon = line.indexOf(':');
    if (colon <= 0) {
      // obs-fold: a continuation of the previous header's value.
      if ((line[0] === ' ' || line[0] === '\t') && headers.length) {
        headers[headers.length - 1][1] += ' ' + line.trim();
        continue;
      }
      return 'bad header line';
    }
    const name = line.slice(0, colon);
    const value = line.slice(colon + 1).trim();
    headers.push([name, value]);
    switch (name.length) {
      case 10:
        if (name.toLowerCase() === 'connection') head.connection = value.toLowerCase();
        break;
      case 14:
        if (name.toLowerCase() === 'content-length') {
          if (head.contentLength !== undefined && head.contentLength !== value)
            return 'conflicting content-length';
          head.contentLength = value;
        }
        break;
      case 16:
        if (name.toLowerCase() === 'content-encoding') head.contentEncoding = value.toLowerCase();
        break;
      case 17:
        if (name.toLowerCase() === 'transfer-encoding') head.transferEncoding = value.toLowerCase();
        break;
    }
  }
  return head;
}
