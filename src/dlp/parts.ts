/**
 * Masking the other parts of a request or response: query values, path segments and text
 * bodies (JSON and any other text as text, forms field by field). Each returns its input
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
 * Text bodies only; binary (base64) bodies are left as they are. JSON and any other text are
 * masked as text (key rules see JSON keys even in a cut body); forms field by field.
 */
export function maskBody(body: Body, headers: HeaderList, m: TextMasker): MaskedBody | undefined {
  if (body.encoding !== 'utf8' || body.data.length === 0) return undefined;
  const type = headerValue(headers, 'content-type') ?? '';
  const data = type.includes('x-www-form-urlencoded') ? maskForm(body.data, m) : m.mask(body.data);
  if (data === body.data) return undefined;
  // `size` is the wire size; it follows the data only when data was the whole, unencoded body.
  const resized = !body.truncated && body.decodedFrom === undefined;
  return { body: { ...body, data, size: resized ? Buffer.byteLength(data) : body.size }, resized };
}
