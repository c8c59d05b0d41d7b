/**
 * Masking headers: credentials keep their scheme, cookies their names, other values go
 * through the detectors. Returns the input list itself when nothing changed.
 */
import type { HeaderList } from '../model/traffic.js';
import type { TextMasker } from './text.js';

export interface HeaderRules {
  /** Lowercase header name spellings -> token kind. */
  kinds: Map<string, string>;
  /** Lowercase names detectors skip. */
  exempt: Set<string>;
  scanValues: boolean;
}

type HeaderAction = (value: string, m: TextMasker) => string;
const scan: HeaderAction = (value, m) => m.mask(value);
const keep: HeaderAction = (value) => value;

/** What to do with a header, decided once per distinct name (names repeat in every pair). */
export class HeaderPolicy {
  private readonly actions = new Map<string, HeaderAction>();

  constructor(private readonly rules: HeaderRules) {}

  action(name: string): HeaderAction {
    let a = this.actions.get(name);
    if (a === undefined) {
      a = this.decide(name.toLowerCase());
      if (this.actions.size < 10_000) this.actions.set(name, a);
    }
    return a;
  }

  private decide(lower: string): HeaderAction {
    const kind = this.rules.kinds.get(lower);
    if (kind === undefined) return this.rules.scanValues && !this.rules.exempt.has(lower) ? scan : keep;
    if (lower === 'cookie') return (v, m) => maskCookie(v, kind, m);
    if (lower === 'set-cookie') return (v, m) => maskSetCookie(v, kind, m);
    if (lower.endsWith('authorization')) return (v, m) => maskCredentials(v, kind, m);
    return (v, m) => m.token(kind, v);
  }
}

/** `Bearer xyz` -> `Bearer REDACTED-...`: the scheme word stays, the credential goes. */
function maskCredentials(value: string, kind: string, m: TextMasker): string {
  const match = /^([A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*)(\s+)(\S.*)$/s.exec(value);
  if (!match) return m.token(kind, value);
  return match[1] + match[2] + m.token(kind, match[3]);
}

function maskCookiePair(pair: string, kind: string, m: TextMasker): string {
  const eq = pair.indexOf('=');
  if (eq < 0) return pair.replace(pair.trim(), m.token(kind, pair.trim()));
  let value = pair.slice(eq + 1);
  const quoted = value.length >= 2 && value.startsWith('"') && value.endsWith('"');
  if (quoted) value = value.slice(1, -1);
  const masked = m.token(kind, value);
  return pair.slice(0, eq + 1) + (quoted ? `"${masked}"` : masked);
}

/** `a=1; b=2`: each value masked, names kept. */
const maskCookie = (value: string, kind: string, m: TextMasker) =>
  value
    .split(';')
    .map((p) => (p.trim() ? maskCookiePair(p, kind, m) : p))
    .join(';');

/** `sid=abc; Path=/; HttpOnly`: only the cookie's own value, the attributes stay. */
function maskSetCookie(value: string, kind: string, m: TextMasker): string {
  const semi = value.indexOf(';');
  const first = semi < 0 ? value : value.slice(0, semi);
  return maskCookiePair(first, kind, m) + (semi < 0 ? '' : value.slice(semi));
}

export function maskHeaders(headers: HeaderList, policy: HeaderPolicy, m: TextMasker): HeaderList {
  let out: HeaderList | undefined;
  for (let i = 0; i < headers.length; i++) {
    const [name, value] = headers[i];
    const masked = policy.action(name)(value, m);
    if (masked !== value) {
      out ??= headers.slice();
      out[i] = [name, masked];
    }
  }
  return out ?? headers;
}

export function setContentLength(headers: HeaderList, size: number): HeaderList {
  const i = headers.findIndex(([n]) => n.toLowerCase() === 'content-length');
  if (i < 0) return headers;
  const out = headers.slice();
  out[i] = [headers[i][0], String(size)];
  return out;
}
