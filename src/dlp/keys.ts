/**
 * Key rules: a value is secret because of the name it is stored under (a header, a JSON key,
 * a form or query field), whatever it looks like. Names compare ignoring case, and a `_` or
 * `-` in a rule also matches `-`, `_` or nothing there (access_token = accessToken = access-token).
 */
import type { KeyRule } from './rules.js';
import type { Span } from './spans.js';
import { isToken } from './tokens.js';

/** Lowercase spellings of every rule name -> token kind; the first rule naming a spelling wins. */
export function keyKinds(rules: KeyRule[]): Map<string, string> {
  const kinds = new Map<string, string>();
  for (const r of rules) {
    const name = r.name.toLowerCase();
    for (const sep of ['_', '-', '']) {
      const spelling = name.replace(/[-_]/g, sep);
      if (!kinds.has(spelling)) kinds.set(spelling, r.kind);
    }
  }
  return kinds;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const WS = /[ \t\r\n]*/y;
const NUMBER = /-?\d[\d.eE+-]*/y;

/**
 * Finds values stored under a secret key inside any text: `"key": value` in JSON (also JSON
 * escaped inside a JSON string, `\"key\": \"value\"`), and `?key=value` / `&key=value` in URLs
 * and query strings. Works on cut or invalid JSON: it never parses the whole document.
 */
export class KeyScanner {
  private readonly re?: RegExp;

  constructor(readonly kinds: Map<string, string>) {
    if (kinds.size === 0) return;
    // Longest first, so `card` never stops a match that `card_number` would make.
    const names = [...kinds.keys()]
      .sort((a, b) => b.length - a.length)
      .map(escapeRe)
      .join('|');
    // Literal first character, so the engine skips fast to candidates. Group 1: JSON key
    // (group 2 is the backslash when the JSON is itself escaped inside a string); 3: URL key.
    this.re = new RegExp(`"(${names})(\\\\?)"[ \\t\\r\\n]*:|[?&](${names})=`, 'gi');
  }

  kindOf(name: string): string | undefined {
    return this.kinds.get(name.toLowerCase());
  }

  find(text: string, out: Span[]): void {
    const re = this.re;
    if (!re) return;
    re.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = re.exec(text)) !== null) {
      const end = m.index + m[0].length;
      if (m[3] !== undefined) {
        urlValue(text, end, this.kindOf(m[3])!, out);
      } else {
        const escaped = m[2] !== '' && text.charCodeAt(m.index - 1) === 92;
        // `"password\"` not escaped on both sides is not a key of either kind.
        if (m[2] !== '' && !escaped) continue;
        WS.lastIndex = end;
        WS.exec(text);
        const kind = this.kindOf(m[1])!;
        const next = escaped
          ? escapedJsonValue(text, WS.lastIndex, kind, out)
          : jsonValue(text, WS.lastIndex, kind, out);
        if (next > re.lastIndex) re.lastIndex = next;
      }
    }
  }
}

function urlValue(text: string, start: number, kind: string, out: Span[]): void {
  let end = start;
  while (end < text.length && !URL_VALUE_END.has(text.charCodeAt(end))) end++;
  const raw = text.slice(start, end);
  if (raw && !isToken(raw)) out.push({ start, end, kind, value: decodeLoose(raw) });
}
/** `& # " ' < > \` and whitespace end a value inside a URL. */
const URL_VALUE_END = new Set([...'&#"\'<>\\ \t\r\n'].map((c) => c.charCodeAt(0)));

/**
 * Percent-decoding that never throws, so the same secret hashes alike in a query and in a
 * body. `+` is a space in query strings and forms, itself in a path.
 */
export function decodeLoose(raw: string, plusIsSpace = true): string {
  const plus = plusIsSpace && raw.includes('+');
  if (!raw.includes('%') && !plus) return raw;
  try {
    return decodeURIComponent(plus ? raw.replace(/\+/g, ' ') : raw);
  } catch {
    return raw;
  }
}

/** End of the JSON string whose content starts at `from` (the closing quote), or text.length when cut. */
function jsonStringEnd(text: string, from: number): number {
  let i = from;
  for (;;) {
    const q = text.indexOf('"', i);
    if (q < 0) return text.length;
    let bs = 0;
    while (text.charCodeAt(q - 1 - bs) === 92) bs++;
    if (bs % 2 === 0) return q;
    i = q + 1;
  }
}

function unescapeJson(raw: string): string {
  if (!raw.includes('\\')) return raw;
  try {
    return JSON.parse(`"${raw}"`) as string;
  } catch {
    return raw;
  }
}

function pushString(text: string, start: number, end: number, kind: string, out: Span[]): void {
  const raw = text.slice(start, end);
  if (raw && !isToken(raw)) out.push({ start, end, kind, value: unescapeJson(raw) });
}

/** Masks the JSON value starting at `at` (string, number, or every leaf of an object/array); returns where it ends. */
function jsonValue(text: string, at: number, kind: string, out: Span[]): number {
  const c = text.charCodeAt(at);
  if (c === 34 /* " */) {
    const end = jsonStringEnd(text, at + 1);
    pushString(text, at + 1, end, kind, out);
    return end + 1;
  }
  if (c === 45 || (c >= 48 && c <= 57)) {
    NUMBER.lastIndex = at;
    const n = NUMBER.exec(text)!;
    out.push({ start: at, end: at + n[0].length, kind, quote: '"' });
    return at + n[0].length;
  }
  if (c === 123 /* { */ || c === 91 /* [ */) return containerLeaves(text, at, kind, out);
  return at; // true / false / null: nothing to hide
}

/** Every string and number inside the object/array at `at` except object keys; returns its end. */
function containerLeaves(text: string, at: number, kind: string, out: Span[]): number {
  let depth = 0;
  let i = at;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 123 || c === 91) depth++;
    else if (c === 125 || c === 93) {
      if (--depth === 0) return i + 1;
    } else if (c === 34) {
      const end = jsonStringEnd(text, i + 1);
      WS.lastIndex = end + 1;
      WS.exec(text);
      if (text.charCodeAt(WS.lastIndex) !== 58 /* : */) pushString(text, i + 1, end, kind, out);
      i = end;
    } else if (c === 45 || (c >= 48 && c <= 57)) {
      i = jsonValue(text, i, kind, out) - 1;
    }
    i++;
  }
  return text.length;
}

/** A value of JSON escaped inside a JSON string: `\"secret\"` or a number. */
function escapedJsonValue(text: string, at: number, kind: string, out: Span[]): number {
  if (text.startsWith('\\"', at)) {
    let end = text.indexOf('\\"', at + 2);
    if (end < 0) end = text.length;
    pushString(text, at + 2, end, kind, out);
    return end + 2;
  }
  const c = text.charCodeAt(at);
  if (c === 45 || (c >= 48 && c <= 57)) {
    NUMBER.lastIndex = at;
    const n = NUMBER.exec(text)!;
    out.push({ start: at, end: at + n[0].length, kind, quote: '\\"' });
    return at + n[0].length;
  }
  return at;
}
