/** HTTP/1.1 request bytes: the one place a request becomes what goes on the socket. */

export interface WireRequest {
  method: string;
  /** Request target: the path and the encoded query. */
  target: string;
  host: string;
  /** Header list as it will be sent (hop-by-hop, host and content-length already removed). */
  headers: readonly (readonly [string, string])[];
  body: Buffer;
}

/** Methods that carry a body by definition: they get `content-length: 0` when it is empty. */
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);
const NON_LATIN1 = /[\u0100-\uffff]/;
const LINE_BREAK = /[\r\n]/;
const LINE_BREAKS = /[\r\n]+/g;

export function encodeRequest(req: WireRequest): Buffer {
  let head = `${req.method} ${req.target} HTTP/1.1\r\nhost: ${req.host}\r\n`;
  for (const [name, value] of req.headers) {
    // A line break in a value would start a header (or a request) of its own.
    head += `${name}: ${LINE_BREAK.test(value) ? value.replace(LINE_BREAKS, ' ') : value}\r\n`;
  }
  if (req.body.length > 0 || BODY_METHODS.has(req.method)) head += `content-length: ${req.body.length}\r\n`;
  head += '\r\n';
  // Node decodes header bytes as latin1; only text it cannot represent goes out as UTF-8.
  const encoding = NON_LATIN1.test(head) ? 'utf8' : 'latin1';
  if (req.body.length === 0) return Buffer.from(head, encoding);
  const headLength = Buffer.byteLength(head, encoding);
  const out = Buffer.allocUnsafe(headLength + req.body.length);
  out.write(head, 0, encoding);
  req.body.copy(out, headLength);
  return out;
}

/** Encodes decoded query pairs; spaces as %20 (not `+`, which not every server decodes as a space). */
export function encodeQuery(query: readonly (readonly [string, string])[]): string {
  if (query.length === 0) return '';
  let out = '';
  for (const [k, v] of query) out += `${out ? '&' : '?'}${encodeURIComponent(k)}=${encodeURIComponent(v)}`;
  return out;
}

/** A recorded path may hold characters a request line cannot: encode those, keep existing escapes. */
export function safePath(path: string): string {
  const p = path.startsWith('/') || path === '*' ? path : `/${path}`;
  return /[^\x21-\x7e]/.test(p) ? p.replace(/[^\x21-\x7e]+/g, (s) => encodeURIComponent(s)) : p;
}
