/**
 * Masking the other parts of a request or response: query values, path segments and bodies
 * (JSON and any other text as text, forms field by field; binary bodies are reported). Each returns its input
 * itself when nothing changed, so clean pairs cost no allocation.
 */
import type { Body, HeaderList } from '../model/traffic.js';
import { headerValue } from '../model/headers.js';
import { decodeLoose } from './keys.js';
import type { TextMasker } from './text.js';

/** Decoded query parameters: a secret key's value is replaced whole, others go through detectors. */
export function maskQuery(query: [string, string][], m: TextMasker): [string, string][] {
  let out: [string, string][] | undefined;
  for (let i = 0; i < query.length; i++) {
    const [name, value] = query[i];
    const kind = m.keys.kindOf(name);
    const masked = kind !== undefined ? m.token(kind, value) : m.mask(value);
    if (masked !== value) {
      out ??= query.slice();
      out[i] = [name, masked];
    }
  }
  return out ?? query;
}

/** The path as sent (percent-encoded): segments are decoded before detection when they need it. */
export function maskPath(path: string, m: TextMasker): string {
  if (!path.includes('%')) return m.mask(path);
  const segments = path.split('/');
  let changed = false;
  for (let i = 0; i < segments.length; i++) {
    const raw = segments[i];
    if (!raw) continue;
    const decoded = decodeLoose(raw, false);
    const masked = m.mask(decoded);
    if (masked !== decoded) {
      segments[i] = encodeURIComponent(masked);
      changed = true;
    }
  }
  return changed ? segments.join('/') : path;
}

/** `a=1&password=x`: fields by name, values through detectors; untouched fields keep their bytes. */
export function maskForm(data: string, m: TextMasker): string {
  const parts = data.split('&');
  let changed = false;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const value = decodeLoose(part.slice(eq + 1));
    const kind = m.keys.kindOf(decodeLoose(part.slice(0, eq)));
    const masked = kind !== undefined ? m.token(kind, value) : m.mask(value);
    if (masked !== value) {
      parts[i] = part.slice(0, eq + 1) + encodeURIComponent(masked);
      changed = true;
    }
  }
  return changed ? parts.join('&') : data;
}

export interface MaskedBody {
  body: Body;
  /** True when the new data length should replace a content-length header. */
  resized: boolean;
}

/**
 * Text in a charset whose ASCII bytes mean ASCII (Latin-1, Windows-125x, UTF-8 with a stray
 * byte...): what every detector and key rule looks for is ASCII. UTF-16/32 are not.
 */
const TEXT_TYPE =
  /^\s*(text\/|application\/(json|xml|javascript|x-ndjson|x-www-form-urlencoded|graphql)\b|[^;]*\+(json|xml)\b)/i;
const WIDE_CHARSET = /charset\s*=\s*"?utf-?(16|32)/i;

/**
 * A body's bytes as text and back: one character per byte (Latin-1), so the bytes a mask does
 * not touch come back exactly as recorded and a token (ASCII) is its own bytes.
 */
const asText = (body: Body) =>
  body.encoding === 'utf8' ? body.data : Buffer.from(body.data, 'base64').toString('latin1');
const fromText = (body: Body, text: string) =>
  body.encoding === 'utf8' ? text : Buffer.from(text, 'latin1').toString('base64');
const byteLength = (body: Body, text: string) =>
  body.encoding === 'utf8' ? Buffer.byteLength(text) : text.length;

/**
 * Text bodies are masked as text: JSON and any other text as a whole (key rules see JSON keys
 * even in a cut body), forms field by field. A body that is not UTF-8 (base64) is masked the
 * same way, byte for byte, when its content type says it is text in an ASCII-compatible
 * charset. Any other non-UTF-8 body (binary, UTF-16, no content type) cannot be masked without
 * risking its bytes: it is left as recorded and reported `unscanned`.
 */
export function maskBody(
  body: Body,
  headers: HeaderList,
  m: TextMasker,
): MaskedBody | 'unscanned' | undefined {
  if (body.data.length === 0) return undefined;
  const type = headerValue(headers, 'content-type') ?? '';
  if (body.encoding === 'base64' && !(TEXT_TYPE.test(type) && !WIDE_CHARSET.test(type))) return 'unscanned';
  const text = asText(body);
  const masked = type.includes('x-www-form-urlencoded') ? maskForm(text, m) : m.mask(text);
  if (masked === text) return undefined;
  // `size` is the wire size; it follows the data only when data was the whole, unencoded body.
  const resized = !body.truncated && body.decodedFrom === undefined;
  return {
    body: { ...body, data: fromText(body, masked), size: resized ? byteLength(body, masked) : body.size },
    resized,
  };
}
