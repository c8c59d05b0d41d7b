/** Compiles one condition into a predicate over an RRPair; all pattern work happens here, once. */
import picomatch from 'picomatch';
import { headerValue } from '../model/headers.js';
import type { RRPair } from '../model/traffic.js';
import type { Condition, HeaderCondition } from './rules.js';

export type PairPredicate = (pair: RRPair) => boolean;

const list = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

/**
 * `*` = any run of characters, `?` = one; anchored, case-insensitive. The usual shapes
 * (`exact`, `prefix*`, `*suffix`, `*infix*`) are plain string tests; the rest one regex.
 */
export function wildcardMatcher(patterns: string[]): (value: string) => boolean {
  const exact = new Set<string>();
  const prefixes: string[] = [];
  const suffixes: string[] = [];
  const infixes: string[] = [];
  const regex: string[] = [];
  for (const pattern of patterns) {
    const p = pattern.toLowerCase();
    const inner = p.replace(/^\*/, '').replace(/\*$/, '');
    if (/[*?]/.test(inner) || inner === '') {
      regex.push(
        p
          .replace(/[.+^${}()|[\]\\]/g, '\\$&')
          .replace(/\*/g, '.*')
          .replace(/\?/g, '.'),
      );
    } else if (p.startsWith('*') && p.endsWith('*') && p.length > 1) infixes.push(inner);
    else if (p.startsWith('*')) suffixes.push(inner);
    else if (p.endsWith('*')) prefixes.push(inner);
    else exact.add(p);
  }
  const re = regex.length ? new RegExp(`^(?:${regex.join('|')})$`, 'i') : undefined;
  return (value) => {
    const v = value.toLowerCase();
    return (
      exact.has(v) ||
      prefixes.some((x) => v.startsWith(x)) ||
      suffixes.some((x) => v.endsWith(x)) ||
      infixes.some((x) => v.includes(x)) ||
      (re !== undefined && re.test(value))
    );
  };
}

/**
 * Literal paths are a Set lookup, `/dir/**` a prefix test; other globs are compiled by
 * picomatch into one regex tested directly (its matcher function costs far more than the test).
 */
function pathMatcher(patterns: string[]): (path: string) => boolean {
  const literal = new Set<string>();
  const dirs: string[] = [];
  const globs: string[] = [];
  for (const p of patterns) {
    if (!picomatch.scan(p).isGlob) literal.add(p);
    else if (p.endsWith('/**') && !picomatch.scan(p.slice(0, -3)).isGlob) {
      // picomatch: `/a/**` matches `/a` itself and everything below it.
      literal.add(p.slice(0, -3));
      dirs.push(p.slice(0, -2));
    } else globs.push(p);
  }
  const re = globs.length
    ? new RegExp(globs.map((g) => picomatch.makeRe(g, { dot: true }).source).join('|'))
    : undefined;
  return (path) =>
    literal.has(path) || dirs.some((d) => path.startsWith(d)) || (re !== undefined && re.test(path));
}

/** `404`, `5xx`, `500-599` -> inclusive [lo, hi]. */
function statusRange(p: number | string): [number, number] {
  if (typeof p === 'number') return [p, p];
  const s = p.toLowerCase();
  if (s.endsWith('xx')) return [Number(s[0]) * 100, Number(s[0]) * 100 + 99];
  const [lo, hi = lo] = s.split('-').map(Number);
  return [lo, hi];
}

function headerPredicate(h: HeaderCondition): PairPredicate {
  const name = h.name.toLowerCase();
  const value = h.value === undefined ? undefined : wildcardMatcher(list(h.value));
  const inResponse = h.in === 'response';
  return (pair) => {
    const headers = inResponse ? pair.response?.headers : pair.request.headers;
    const v = headers && headerValue(headers, name);
    return v !== undefined && (value === undefined || value(v));
  };
}

const any =
  (preds: PairPredicate[]): PairPredicate =>
  (pair) =>
    preds.some((p) => p(pair));

/** The fields of one condition, each a predicate; the condition matches when all do. */
function fieldPredicates(c: Condition): PairPredicate[] {
  const preds: PairPredicate[] = [];
  if (c.direction !== undefined) {
    const dirs = new Set(list(c.direction));
    preds.push((pair) => dirs.has(pair.direction));
  }
  if (c.service !== undefined) {
    const m = wildcardMatcher(list(c.service));
    preds.push((pair) => m(pair.service));
  }
  if (c.host !== undefined) {
    const m = wildcardMatcher(list(c.host));
    preds.push((pair) => m(pair.request.host));
  }
  if (c.port !== undefined) {
    const ports = new Set(list(c.port));
    preds.push((pair) => ports.has(pair.request.port));
  }
  if (c.method !== undefined) {
    const methods = new Set(list(c.method).map((m) => m.toUpperCase()));
    preds.push((pair) => methods.has(pair.request.method) || methods.has(pair.request.method.toUpperCase()));
  }
  if (c.path !== undefined) {
    const m = pathMatcher(list(c.path));
    preds.push((pair) => m(pair.request.path));
  }
  if (c.header !== undefined) preds.push(any(list(c.header).map(headerPredicate)));
  if (c.status !== undefined) {
    const ranges = list(c.status).map(statusRange);
    preds.push((pair) => {
      const s = pair.response?.status;
      return s !== undefined && ranges.some(([lo, hi]) => s >= lo && s <= hi);
    });
  }
  if (c.all !== undefined) {
    const subs = c.all.map(compileCondition);
    preds.push((pair) => subs.every((p) => p(pair)));
  }
  if (c.any !== undefined) preds.push(any(c.any.map(compileCondition)));
  if (c.not !== undefined) {
    const sub = compileCondition(c.not);
    preds.push((pair) => !sub(pair));
  }
  return preds;
}

export function compileCondition(c: Condition): PairPredicate {
  const preds = fieldPredicates(c);
  if (preds.length === 1) return preds[0];
  return (pair) => preds.every((p) => p(pair));
}

/** True when any of the conditions matches; false for an empty list. */
export function compileAny(conditions: Condition[]): PairPredicate {
  const preds = conditions.map(compileCondition);
  if (preds.length === 0) return () => false;
  if (preds.length === 1) return preds[0];
  return any(preds);
}
