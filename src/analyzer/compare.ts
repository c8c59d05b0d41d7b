/**
 * Comparing one replayed response with its recording: status, the asserted headers, and the
 * body (JSON key by key; anything else by sha256). What counts as noise or is ignored is
 * decided by the caller's CompareRules, so this module knows nothing about detection.
 */
import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import { bodyBytes, bodyText } from '../model/body.js';
import type { Body, HeaderList } from '../model/traffic.js';
import type { DiffKind, FieldDiff, NoiseLocation, NoiseReason } from '../report/schema.js';
import { formatPath, type Segment } from './jsonpath.js';

/** What is kept of a recorded body: enough to compare, no more. */
export type ExpectedBody =
  | { kind: 'none' }
  /** Compact JSON text: a string costs far less memory than the parsed object graph. */
  | { kind: 'json'; text: string }
  /** sha256 of the first `length` bytes (all of them unless the recording was truncated). */
  | { kind: 'bytes'; sha256: string; length: number; truncated: boolean; preview: string };

export interface CompareRules {
  /** Body positions the user ignores: neither compared nor counted. */
  ignored(segments: readonly Segment[]): boolean;
  /** Why a difference here does not count, or undefined when it is a real difference. */
  noise(location: NoiseLocation, segments: readonly Segment[], kind: DiffKind): NoiseReason | undefined;
}

export const STRICT: CompareRules = { ignored: () => false, noise: () => undefined };

export interface Comparison {
  /** Fields equal in both (noise and ignored fields left out). */
  matched: number;
  /** matched + real differences. */
  compared: number;
  /** Real differences and noise differences (flagged), in document order. */
  diffs: FieldDiff[];
}

const PREVIEW_CHARS = 200;

function cut(text: string): string {
  return text.length > PREVIEW_CHARS ? `${text.slice(0, PREVIEW_CHARS)}…` : text;
}

/** A JSON value as short display text; undefined stays undefined (absent on that side). */
export function preview(value: unknown): string | undefined {
  return value === undefined ? undefined : cut(JSON.stringify(value));
}

export class ComparisonBuilder {
  readonly result: Comparison = { matched: 0, compared: 0, diffs: [] };
  constructor(readonly rules: CompareRules) {}

  equal(location: NoiseLocation, segments: readonly Segment[]): void {
    if (this.rules.noise(location, segments, 'changed')) return;
    this.result.matched++;
    this.result.compared++;
  }

  /** `expected`/`actual` are display text, undefined for the side that has nothing. */
  differ(
    location: NoiseLocation | 'status',
    segments: readonly Segment[],
    path: string,
    kind: DiffKind,
    expected: string | undefined,
    actual: string | undefined,
  ): void {
    const reason = location === 'status' ? undefined : this.rules.noise(location, segments, kind);
    if (!reason) this.result.compared++;
    const diff: FieldDiff = { path, kind, noise: reason !== undefined };
    if (expected !== undefined) diff.expected = expected;
    if (actual !== undefined) diff.actual = actual;
    if (reason) diff.reason = reason;
    this.result.diffs.push(diff);
  }
}

/** Where a comparison goes: fresh under these rules, or added to a request's running comparison. */
export type Into = CompareRules | ComparisonBuilder;

const builder = (into: Into = STRICT) =>
  into instanceof ComparisonBuilder ? into : new ComparisonBuilder(into);

/** Visits two JSON values in step; the callbacks decide what a difference means. */
export interface JsonVisitor {
  skip(segments: readonly Segment[]): boolean;
  /** A leaf (or empty container) equal on both sides. */
  equal(segments: readonly Segment[], value: unknown): void;
  differ(
    segments: readonly Segment[],
    kind: 'changed' | 'missing' | 'added',
    expected: unknown,
    actual: unknown,
  ): void;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export function walkJson(
  expected: unknown,
  actual: unknown,
  visit: JsonVisitor,
  segments: Segment[] = [],
): void {
  if (visit.skip(segments)) return;
  const child = (key: Segment, e: unknown, a: unknown, kind?: 'missing' | 'added') => {
    segments.push(key);
    if (!kind) walkJson(e, a, visit, segments);
    else if (!visit.skip(segments)) visit.differ(segments, kind, e, a);
    segments.pop();
  };
  if (isObject(expected) && isObject(actual)) {
    for (const k of Object.keys(expected)) {
      if (Object.hasOwn(actual, k)) child(k, expected[k], actual[k]);
      else child(k, expected[k], undefined, 'missing');
    }
    for (const k of Object.keys(actual))
      if (!Object.hasOwn(expected, k)) child(k, undefined, actual[k], 'added');
    if (Object.keys(expected).length === 0 && Object.keys(actual).length === 0)
      visit.equal(segments, expected);
  } else if (Array.isArray(expected) && Array.isArray(actual)) {
    const n = Math.max(expected.length, actual.length);
    for (let i = 0; i < n; i++) {
      if (i >= actual.length) child(i, expected[i], undefined, 'missing');
      else if (i >= expected.length) child(i, undefined, actual[i], 'added');
      else child(i, expected[i], actual[i]);
    }
    if (n === 0) visit.equal(segments, expected);
  } else if (expected === actual) {
    visit.equal(segments, expected);
  } else {
    visit.differ(segments, 'changed', expected, actual);
  }
}

/** Key-by-key comparison of two parsed JSON documents. */
export function compareJson(expected: unknown, actual: unknown, into?: Into): Comparison {
  const out = builder(into);
  walkJson(expected, actual, {
    skip: (s) => out.rules.ignored(s),
    equal: (s) => out.equal('body', s),
    differ: (s, kind, e, a) => out.differ('body', s, formatPath(s), kind, preview(e), preview(a)),
  });
  return out.result;
}

/**
 * A header's comparable value: repeated headers joined in order; for set-cookie the
 * expiry attributes are dropped since they move with the clock.
 */
export function headerValue(headers: HeaderList, name: string): string | undefined {
  const lower = name.toLowerCase();
  const values = headers.filter(([n]) => n.toLowerCase() === lower).map(([, v]) => v);
  if (values.length === 0) return undefined;
  if (lower === 'set-cookie') {
    return values.map((v) => v.replace(/;\s*(expires|max-age)=[^;]*/gi, '')).join('\n');
  }
  return values.join(', ');
}

export function compareHeaders(
  expected: ReadonlyMap<string, string>,
  actual: HeaderList,
  names: readonly string[],
  into?: Into,
): Comparison {
  const out = builder(into);
  for (const name of names) {
    const lower = name.toLowerCase();
    const e = expected.get(lower);
    const a = headerValue(actual, lower);
    if (e === a) out.equal('header', [lower]);
    else out.differ('header', [lower], `header:${lower}`, 'header', e, a);
  }
  return out.result;
}

export function compareStatus(expected: number | null, actual: number | null, into?: Into): Comparison {
  const out = builder(into);
  if (expected === actual) {
    out.result.matched++;
    out.result.compared++;
  } else out.differ('status', [], 'status', 'status', expected?.toString(), actual?.toString());
  return out.result;
}

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function bytesPreview(bytes: Buffer): string {
  const head = bytes.subarray(0, PREVIEW_CHARS);
  // Binary shows as its size and hash rather than as mojibake.
  const binary = !isUtf8(bytes) || head.some((b) => b < 0x09 || (b > 0x0d && b < 0x20));
  if (binary) return `<${bytes.length} bytes, sha256 ${sha256(bytes).slice(0, 12)}>`;
  return cut(bytes.toString('utf8', 0, Math.min(bytes.length, PREVIEW_CHARS * 4)));
}

function expectedPreview(expected: Exclude<ExpectedBody, { kind: 'none' }>): string {
  return expected.kind === 'json' ? cut(expected.text) : expected.preview;
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

export function compareBody(expected: ExpectedBody, actual: Body | undefined, into?: Into): Comparison {
  const out = builder(into);
  const actualBytes = bodyBytes(actual);
  const root: Segment[] = [];
  if (expected.kind === 'none') {
    if (actualBytes.length === 0) out.equal('body', root);
    else out.differ('body', root, '$', 'added', undefined, bytesPreview(actualBytes));
    return out.result;
  }
  if (actualBytes.length === 0) {
    out.differ('body', root, '$', 'missing', expectedPreview(expected), undefined);
    return out.result;
  }
  if (expected.kind === 'json') {
    const parsed = parseJson(bodyText(actual));
    if (parsed.ok) return compareJson(JSON.parse(expected.text), parsed.value, out);
    out.differ('body', root, '$', 'changed', expectedPreview(expected), bytesPreview(actualBytes));
    return out.result;
  }
  const compared = expected.truncated ? actualBytes.subarray(0, expected.length) : actualBytes;
  if (compared.length === expected.length && sha256(compared) === expected.sha256) out.equal('body', root);
  else out.differ('body', root, '$', 'changed', expectedPreview(expected), bytesPreview(actualBytes));
  return out.result;
}
