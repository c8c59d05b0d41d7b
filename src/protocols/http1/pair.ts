/** One finished HTTP/1.1 exchange into an RRPair, and where its request went. */
import { isoTime } from '../../base/iso-time.js';
import { newId } from '../../base/new-id.js';
import type { Direction, HeaderList, HttpRequest, RRPair } from '../../model/traffic.js';
import { recordBody } from './body.js';

/** A body as captured: its first bytes (at most the cap) and its size on the wire. */
export interface CapturedBody {
  bytes: Buffer;
  size: number;
}

export interface ExchangeRecord {
  /** Wall-clock times (ms since the epoch) of the first request byte and the last response byte. */
  startT: number;
  endT: number;
  method: string;
  /** The request target as sent: origin-form, absolute-form, authority-form or `*`. */
  target: string;
  reqHeaders: HeaderList;
  reqBody?: CapturedBody;
  response?: { status: number; statusText: string; headers: HeaderList; body?: CapturedBody };
  error?: { code: string; message: string };
  tags?: Record<string, string>;
}

/** What the connection knows that the messages may not say. */
export interface ConnectionFacts {
  direction: Direction;
  scheme: 'http' | 'https';
  /** Used when the request has no Host header. */
  host: string;
  /** Used when the Host header carries no port. */
  port: number;
}

/** Unique, cheap pair ids: one random, time-stamped base per process and a counter. */
export class PairIds {
  private readonly base = newId('pair');
  private n = 0;
  next(): string {
    return `${this.base}-${(++this.n).toString(36)}`;
  }
}

export interface PairContext {
  service: string;
  maxBody: number;
  ids: PairIds;
}

export function buildPair(
  ex: ExchangeRecord,
  conn: ConnectionFacts,
  ctx: PairContext,
  where: Location = requestLocation(ex.target, ex.reqHeaders, conn),
): RRPair {
  const request: HttpRequest = {
    method: ex.method,
    scheme: where.scheme,
    host: where.host,
    port: where.port,
    path: where.path,
    query: where.query,
    headers: ex.reqHeaders,
  };
  const reqBody = ex.reqBody && recordBody(ex.reqBody, ex.reqHeaders, ctx.maxBody);
  if (reqBody) request.body = reqBody;
  const pair: RRPair = {
    id: ctx.ids.next(),
    direction: conn.direction,
    service: ctx.service,
    protocol: 'http/1.1',
    startedAt: isoTime(ex.startT),
    durationMs: Math.max(0, Math.round((ex.endT - ex.startT) * 1000) / 1000),
    request,
    tags: ex.tags ?? {},
  };
  if (ex.response) {
    const r = ex.response;
    const body = r.body && recordBody(r.body, r.headers, ctx.maxBody);
    pair.response = { status: r.status, statusText: r.statusText, headers: r.headers, ...(body && { body }) };
  }
  if (ex.error) pair.error = ex.error;
  return pair;
}

export interface Location {
  scheme: 'http' | 'https';
  host: string;
  port: number;
  path: string;
  query: [string, string][];
}

const ABSOLUTE = /^(https?):\/\/([^/?#]*)/i;

/** The path of a request target (origin-form or absolute-form), without query or fragment. */
export function targetPath(target: string): string {
  const abs = target.charCodeAt(0) === 47 ? null : ABSOLUTE.exec(target);
  const rest = abs ? target.slice(abs[0].length) || '/' : target;
  let end = rest.indexOf('?');
  const hash = rest.indexOf('#');
  if (hash !== -1 && (end === -1 || hash < end)) end = hash;
  return end === -1 ? rest : rest.slice(0, end);
}

/** Scheme, host and port from an absolute target or the Host header; path and decoded query. */
export function requestLocation(target: string, headers: HeaderList, conn: ConnectionFacts): Location {
  let scheme = conn.scheme;
  let authority: string | undefined;
  let rest = target;
  const abs = ABSOLUTE.exec(target);
  if (abs) {
    scheme = abs[1].toLowerCase() as 'http' | 'https';
    authority = abs[2];
    rest = target.slice(abs[0].length) || '/';
  } else {
    for (const [n, v] of headers) {
      if (n.length === 4 && n.toLowerCase() === 'host') {
        authority = v;
        break;
      }
    }
  }
  const { host, port } = splitAuthority(authority ?? '', abs ? (scheme === 'https' ? 443 : 80) : conn.port);
  const hash = rest.indexOf('#');
  if (hash !== -1) rest = rest.slice(0, hash);
  const q = rest.indexOf('?');
  return {
    scheme,
    host: host || conn.host,
    port,
    path: q === -1 ? rest : rest.slice(0, q),
    query: q === -1 ? [] : [...new URLSearchParams(rest.slice(q + 1))],
  };
}

/** `host`, `host:port`, `[v6]:port` -> host (lowercase, v6 without brackets) and port. */
export function splitAuthority(authority: string, defaultPort: number): { host: string; port: number } {
  let host = authority.trim();
  let port = defaultPort;
  const at = host.lastIndexOf('@');
  if (at !== -1) host = host.slice(at + 1);
  const m = /^(\[[^\]]*\]|[^:]*)(?::(\d{1,5}))?$/.exec(host);
  if (m) {
    host = m[1];
    if (m[2] !== undefined && Number(m[2]) <= 65535) port = Number(m[2]);
  }
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  return { host: host.toLowerCase(), port };
}
