/**
 * The body part of a request signature. Bodies that mean the same thing must give the same key:
 * JSON is canonicalised (RFC 8785, so key order and number spelling do not matter) after the
 * ignored paths are removed; url-encoded forms are sorted; multipart bodies have their random
 * boundary replaced; anything else is compared by its bytes.
 */
import { createHash } from 'node:crypto';
import canonicalizeModule from 'canonicalize';
import { covers, parsePatterns, type PathPattern, type Segment } from '../analyzer/jsonpath.js';

// The package is CommonJS (`module.exports = fn`) while its typings declare a default export.
const canonicalize = canonicalizeModule as unknown as (value: unknown) => string | undefined;

/** Canonical text up to this length stays readable in the key (and in miss reports); longer is hashed. */
const INLINE_MAX = 128;

export interface BodyRules {
  /** JSON paths left out of JSON bodies (`$.timestamp`, `$.items[*].id`, `$..nonce`). */
  json: PathPattern[];
  /** Form fields left out: the ignored paths that name one top-level key (`$.nonce`). */
  formFields: Set<string>;
}

export function compileBodyRules(ignore: readonly string[]): BodyRules {
  const json = parsePatterns(ignore);
  const formFields = new Set<string>();
  for (const p of json) if (p.length === 1 && p[0].kind === 'key') formFields.add(p[0].key);
  return { json, formFields };
}

export const digest = (data: string | Buffer): string =>
  createHash('sha256').update(data).digest('base64url');

const inlineOrDigest = (kind: string, text: string): string =>
  text.length <= INLINE_MAX ? `${kind}:${text}` : `${kind}#${digest(text)}`;

type MediaKind = 'json' | 'form' | 'multipart' | 'bytes';

function mediaKind(contentType: string | undefined): MediaKind {
  if (!contentType) return 'bytes';
  const type = contentType.split(';', 1)[0].trim().toLowerCase();
  if (type === 'application/json' || type.endsWith('+json') || type === 'text/json') return 'json';
  if (type === 'application/x-www-form-urlencoded') return 'form';
  if (type.startsWith('multipart/')) return 'multipart';
  return 'bytes';
}

/** The body part of a signature; '' for an empty body. `body` holds the identity (decoded) bytes. */
export function bodyKey(body: Buffer | undefined, contentType: string | undefined, rules: BodyRules): string {
  if (!body || body.length === 0) return '';
  switch (mediaKind(contentType)) {
    case 'json':
      return jsonKey(body, rules) ?? bytesKey(body);
    case 'form':
      return formKey(body, rules);
    case 'multipart':
      return multipartKey(body, contentType!) ?? bytesKey(body);
    default:
      return bytesKey(body);
  }
}

export const bytesKey = (body: Buffer): string => `bytes#${digest(body)}`;

/**
 * The key of a body the recorder cut at its size limit: only the kept prefix is known, so the
 * live body matches when it is longer and starts with the same bytes.
 */
export const prefixKey = (kept: Buffer): string => `prefix${kept.length}#${digest(kept)}`;

function jsonKey(body: Buffer, rules: BodyRules): string | undefined {
  let value: unknown;
  try {
    value = JSON.parse(protectLongNumbers(body.toString('utf8')));
  } catch {
    return undefined; // labelled JSON but is not: compare the bytes
  }
  if (rules.json.length) value = withoutPaths(value, [], rules.json);
  const text = canonicalize(value);
  return text === undefined ? undefined : inlineOrDigest('json', text);
}

/** A number token, matched where the scanner stands. */
const NUMBER = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
/** Doubles hold 15 significant decimal digits exactly. */
const SAFE_DIGITS = 15;

/**
 * Number literals a double cannot hold exactly (int64 ids such as 12345678901234567891) would
 * parse to the same value as their neighbours and match the wrong recording. They are turned
 * into marked strings first, so that canonicalisation keeps every digit.
 */
export function protectLongNumbers(text: string): string {
  if (!/[\d.]{16}/.test(text)) return text; // no token long enough: skip the scan
  let out = '';
  let copied = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
    } else if (c === '-' || (c >= '0' && c <= '9')) {
      NUMBER.lastIndex = i;
      const literal = NUMBER.exec(text)?.[0] ?? c;
      const mantissa = literal
        .replace(/[eE].*$/, '')
        .replace(/\D/g, '')
        .replace(/^0+/, '');
      if (mantissa.length > SAFE_DIGITS) {
        out += text.slice(copied, i) + JSON.stringify(`\u0000number:${literal}`);
        copied = i + literal.length;
      }
      i += literal.length - 1;
    }
  }
  return out + text.slice(copied);
}

const DROPPED = Symbol('dropped');

/** A copy of `value` without the nodes the patterns cover; indices are those of the original. */
function withoutPaths(value: unknown, at: Segment[], patterns: PathPattern[]): unknown {
  if (at.length && patterns.some((p) => covers(p, at))) return DROPPED;
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    value.forEach((v, i) => {
      const kept = withoutPaths(v, [...at, i], patterns);
      if (kept !== DROPPED) out.push(kept);
    });
    return out;
  }
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const kept = withoutPaths(v, [...at, k], patterns);
      if (kept !== DROPPED) out[k] = kept;
    }
    return out;
  }
  return value;
}

/** Sorted `name=value` pairs, percent-encoded, joined with `&`; shared by query strings and forms. */
export function sortedPairs(
  pairs: Iterable<readonly [string, string]>,
  ignored: ReadonlySet<string>,
): string {
  const kept: string[] = [];
  for (const [k, v] of pairs) {
    if (!ignored.has(k)) kept.push(`${encodeURIComponent(k)}=${encodeURIComponent(v)}`);
  }
  // Any fixed order makes the key independent of the order sent; the encoded text sorts cheaply.
  return kept.sort().join('&');
}

function formKey(body: Buffer, rules: BodyRules): string {
  return inlineOrDigest('form', sortedPairs(new URLSearchParams(body.toString('utf8')), rules.formFields));
}

/** Clients pick a random boundary per request: hash the body with the boundary replaced. */
function multipartKey(body: Buffer, contentType: string): string | undefined {
  const m = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const boundary = m?.[1] ?? m?.[2];
  if (!boundary) return undefined;
  const hash = createHash('sha256');
  const marker = Buffer.from(boundary);
  let from = 0;
  for (let at = body.indexOf(marker); at !== -1; at = body.indexOf(marker, from)) {
    hash.update(body.subarray(from, at)).update('\0boundary\0');
    from = at + marker.length;
  }
  hash.update(body.subarray(from));
  return `multipart#${hash.digest('base64url')}`;
}
