/** URL <-> the model's request fields, keeping the path exactly as it was sent. */
import type { HttpRequest } from '../model/traffic.js';

export interface UrlParts {
  scheme: 'http' | 'https';
  /** An IPv6 address without brackets. */
  host: string;
  port: number;
  /** As written in the URL (percent-encoding kept); `/` when empty. */
  path: string;
  query: [string, string][];
}

const SCHEMES: Record<string, 'http' | 'https'> = {
  'http:': 'http',
  'https:': 'https',
  'ws:': 'http',
  'wss:': 'https',
};
const DEFAULT_PORT = { http: 80, https: 443 } as const;

/** Parses an absolute http(s) or ws(s) URL (a WebSocket handshake is an HTTP request); else undefined. */
export function splitUrl(raw: string): UrlParts | undefined {
  if (!URL.canParse(raw)) return undefined;
  const url = new URL(raw);
  const scheme = SCHEMES[url.protocol];
  if (!scheme) return undefined;
  // The path is cut from the raw text: WHATWG parsing would re-encode and resolve dot segments.
  const afterScheme = raw.indexOf('//') + 2;
  const pathStart = firstOf(raw, '/?#', afterScheme);
  const queryStart = firstOf(raw, '?#', pathStart);
  const path = raw.slice(pathStart, queryStart) || '/';
  const port = url.port ? Number(url.port) : DEFAULT_PORT[scheme];
  const query = [...url.searchParams] as [string, string][];
  return { scheme, host: unbracket(url.hostname), port, path, query };
}

/** True for the schemes a pair can record: http(s), and ws(s) for the upgrade request. */
export function isHttpUrl(raw: string): boolean {
  return splitUrl(raw) !== undefined;
}

/** `host:port` or `[v6]:port` from a Host header or `:authority`. */
export function splitAuthority(authority: string, scheme: 'http' | 'https'): { host: string; port: number } {
  const m = /^(\[[^\]]*\]|[^:]*)(?::(\d+))?$/.exec(authority.trim());
  if (!m) return { host: authority, port: DEFAULT_PORT[scheme] };
  return { host: unbracket(m[1].toLowerCase()), port: m[2] ? Number(m[2]) : DEFAULT_PORT[scheme] };
}

/** Hosts are kept bare (`::1`, as sockets take them); URLs add the brackets back. */
const unbracket = (host: string) => (host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host);

export function buildUrl(req: Pick<HttpRequest, 'scheme' | 'host' | 'port' | 'path' | 'query'>): string {
  const host = req.host.includes(':') && !req.host.startsWith('[') ? `[${req.host}]` : req.host;
  const port = req.port === DEFAULT_PORT[req.scheme] ? '' : `:${req.port}`;
  const path = req.path.startsWith('/') ? req.path : `/${req.path}`;
  const query = req.query.map(([k, v]) => `${encodeQueryPart(k)}=${encodeQueryPart(v)}`).join('&');
  return `${req.scheme}://${host}${port}${path}${query ? `?${query}` : ''}`;
}

/**
 * Percent-encodes only what a query component needs (`&`, `=`, `+`, `#`, `%`, space,
 * quotes, brackets, non-ASCII), leaving `,:/@?!$()*;` as browsers send them, so the
 * URLs of typical captures come out as they went in.
 */
export function encodeQueryPart(s: string): string {
  let out = '';
  for (const ch of s) {
    if (/^[A-Za-z0-9\-._~!$()*,;:@/?]$/.test(ch)) out += ch;
    else if (ch === "'") out += '%27';
    else out += encodeChar(ch);
  }
  return out;
}

function encodeChar(ch: string): string {
  try {
    return encodeURIComponent(ch);
  } catch {
    return '%EF%BF%BD'; // a lone surrogate: U+FFFD, as a browser would send it
  }
}

function firstOf(s: string, chars: string, from: number): number {
  for (let i = from; i < s.length; i++) if (chars.includes(s[i])) return i;
  return s.length;
}
