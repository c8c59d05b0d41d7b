/**
 * Value detectors: find emails, cards, JWTs, bearer credentials, phones, IPv4s and SSNs in a
 * string. One regex pass per string whose alternation holds every enabled detector (one
 * capture group each) rather than one regex per detector; emails are found from their `@`
 * instead. The exact boundary rules, Luhn and SSN validity are checked in code, only on the
 * few candidates.
 */
import type { DetectorKind } from './rules.js';
import type { Span } from './spans.js';
import { isToken } from './tokens.js';

const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
/** In this order in the alternation: the letter-anchored kinds first. */
const PATTERNS: [DetectorKind, string][] = [
  ['jwt', 'eyJ[A-Za-z0-9_-]{4,}\\.[A-Za-z0-9_-]{4,}\\.[A-Za-z0-9_-]*'],
  ['bearer', '[Bb][Ee][Aa][Rr][Ee][Rr]\\s+'],
  // 13-19 digits, optionally grouped by spaces or dashes, issuer digit 2-6 (not epoch millis).
  ['card', '[2-6]\\d{3}(?:[ -]?\\d){9,15}'],
  ['ssn', '\\d{3}-\\d\\d-\\d{4}'],
  ['phone', '\\+[1-9]\\d{7,14}'],
  ['ipv4', `${OCTET}(?:\\.${OCTET}){3}`],
];

const isDigit = (c: number) => c >= 48 && c <= 57;
const isAlnum = (c: number) => isDigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
/** Characters of a base64url token (JWT segments): `A-Z a-z 0-9 - _`. */
const isB64Url = (c: number) => isAlnum(c) || c === 45 || c === 95;
/** Email local part: `A-Z a-z 0-9 . _ % + -`. */
const isLocal = (c: number) => isAlnum(c) || c === 46 || c === 95 || c === 37 || c === 43 || c === 45;
const BACKSLASH = 92;

const EMAIL_DOMAIN =
  /[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,63}(?![A-Za-z0-9-])/y;
const BEARER_CREDENTIAL = /[A-Za-z0-9._~+/=-]{8,}/y;

export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double && (d *= 2) > 9) d -= 9;
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

function validCard(text: string): boolean {
  const digits = text.replace(/[ -]/g, '');
  return digits.length >= 13 && digits.length <= 19 && luhnValid(digits);
}

/** Area 000, 666, 9xx, group 00 and serial 0000 are never issued. */
function validSsn(text: string): boolean {
  const area = text.slice(0, 3);
  return (
    area !== '000' && area !== '666' && text[0] !== '9' && text.slice(4, 6) !== '00' && !text.endsWith('0000')
  );
}

/** The span a candidate stands for, or undefined when it is not one after all. */
type Accept = (text: string, start: number, end: number) => Span | undefined;

const span = (kind: DetectorKind, ok: boolean, start: number, end: number): Span | undefined =>
  ok ? { start, end, kind } : undefined;
const charAt = (text: string, i: number) => (i >= 0 && i < text.length ? text.charCodeAt(i) : 0);

const ACCEPT: Record<Exclude<DetectorKind, 'email'>, Accept> = {
  jwt: (t, s, e) => span('jwt', !isB64Url(charAt(t, s - 1)), s, e),
  bearer: (t, s, e) => {
    BEARER_CREDENTIAL.lastIndex = e;
    const cred = BEARER_CREDENTIAL.exec(t);
    if (!cred || isAlnum(charAt(t, s - 1)) || isToken(cred[0])) return undefined;
    // Only the credential is masked: the scheme word stays.
    return { start: e, end: e + cred[0].length, kind: 'bearer' };
  },
  card: (t, s, e) =>
    span('card', !isDigit(charAt(t, s - 1)) && !isDigit(charAt(t, e)) && validCard(t.slice(s, e)), s, e),
  ssn: (t, s, e) => {
    const b = charAt(t, s - 1);
    const a = charAt(t, e);
    return span('ssn', !isDigit(b) && b !== 45 && !isDigit(a) && a !== 45 && validSsn(t.slice(s, e)), s, e);
  },
  phone: (t, s, e) => {
    const b = charAt(t, s - 1);
    return span('phone', !isAlnum(b) && b !== 43 && !isDigit(charAt(t, e)), s, e);
  },
  // Not a version: `1.2.3.4.5`, `v1.2.3.4`, `Chrome/120.0.0.0`.
  ipv4: (t, s, e) => {
    const b = charAt(t, s - 1);
    const a = charAt(t, e);
    const ok =
      !isAlnum(b) &&
      b !== 46 &&
      !(b === 47 && isAlnum(charAt(t, s - 2))) &&
      !isDigit(a) &&
      !(a === 46 && isDigit(charAt(t, e + 1)));
    return span('ipv4', ok, s, e);
  },
};

export class Detectors {
  private readonly re?: RegExp;
  /** Capture group i + 1 is accepts[i]. */
  private readonly accepts: Accept[];
  private readonly email: boolean;

  constructor(kinds: readonly DetectorKind[]) {
    const enabled = PATTERNS.filter(([k]) => kinds.includes(k));
    this.accepts = enabled.map(([k]) => ACCEPT[k as Exclude<DetectorKind, 'email'>]);
    if (enabled.length) this.re = new RegExp(enabled.map(([, p]) => `(${p})`).join('|'), 'g');
    this.email = kinds.includes('email');
  }

  /** Appends the secrets found in `text` to `out`. */
  find(text: string, out: Span[]): void {
    if (this.email) this.findEmails(text, out);
    if (this.re) this.findPatterns(text, this.re, out);
  }

  /** Emails are found from their `@` (a memchr-speed search), the local part by walking back. */
  private findEmails(text: string, out: Span[]): void {
    let at = text.indexOf('@');
    while (at >= 0) {
      const found = emailAt(text, at);
      if (found) out.push(found);
      at = text.indexOf('@', found ? found.end : at + 1);
    }
  }

  private findPatterns(text: string, re: RegExp, out: Span[]): void {
    re.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = re.exec(text)) !== null) {
      let g = 1;
      while (m[g] === undefined) g++;
      const found = this.accepts[g - 1](text, m.index, m.index + m[0].length);
      if (found) {
        out.push(found);
        re.lastIndex = found.end;
      }
      // A rejected candidate may hide a valid one starting inside it.
      else re.lastIndex = m.index + 1;
    }
  }
}

function emailAt(text: string, at: number): Span | undefined {
  let start = at;
  while (start > 0 && at - start < 64 && isLocal(text.charCodeAt(start - 1))) start--;
  // Inside JSON text `\njane@x` the `n` belongs to an escape: never cut an escape in half.
  if (start > 0 && text.charCodeAt(start - 1) === BACKSLASH) start++;
  if (start >= at) return undefined;
  EMAIL_DOMAIN.lastIndex = at + 1;
  const domain = EMAIL_DOMAIN.exec(text);
  if (!domain) return undefined;
  return { start, end: at + 1 + domain[0].length, kind: 'email' };
}
