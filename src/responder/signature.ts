/**
 * Request signatures: the exact key a recorded outbound request is stored under and a live one
 * is looked up by. `METHOD host/path?query body`, where the host is lowercase without a
 * standard port, the query is sorted without the ignored parameters, and the body part comes
 * from body-key.ts. The scheme is left out, so `https://api:443` and `http://api:80` (a plain-host
 * replay behind a host alias) are the same host; 80 and 443 are both dropped for that reason.
 */
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import type { ResponderConfig } from '../config/replay.js';
import { bodyBytes } from '../model/body.js';
import { headerValue } from '../model/headers.js';
import type { HttpRequest } from '../model/traffic.js';
import { bodyKey, compileBodyRules, prefixKey, sortedPairs, type BodyRules } from './body-key.js';

export interface SignatureRules {
  query: ReadonlySet<string>;
  body: BodyRules;
}

export function compileSignatureRules(ignore: Partial<ResponderConfig['ignore']> = {}): SignatureRules {
  return { query: new Set(ignore.query ?? []), body: compileBodyRules(ignore.body ?? []) };
}

/** What a signature is computed from; recorded and live requests are both brought to this shape. */
export interface RequestFacts {
  method: string;
  /** Normalised with hostKey / authorityKey. */
  host: string;
  /** Path as sent, without the query string. */
  path: string;
  /** Decoded query parameters, any order. */
  query: Iterable<readonly [string, string]>;
  contentType?: string;
  /** The identity (decoded) body bytes. */
  body?: Buffer;
}

export interface Signature {
  /** The lookup key. */
  key: string;
  method: string;
  host: string;
  /** Path and normalised query. */
  target: string;
  /** The key after the host (target and body part), for similarity when nothing matches. */
  rest: string;
}

const STANDARD_PORTS = new Set([80, 443]);

/** `Api.Example.COM.`, 443 -> `api.example.com`; `::1`, 8080 -> `[::1]:8080`. */
export function hostKey(hostname: string, port?: number): string {
  let host = hostname.toLowerCase();
  if (host.endsWith('.')) host = host.slice(0, -1);
  if (host.includes(':') && !host.startsWith('[')) host = `[${host}]`;
  return port === undefined || STANDARD_PORTS.has(port) ? host : `${host}:${port}`;
}

/** A Host header or URL authority (`host`, `host:port`, `[v6]:port`, `user@host`) as a host key. */
export function authorityKey(authority: string): string {
  const at = authority.lastIndexOf('@');
  const hostPort = at === -1 ? authority : authority.slice(at + 1);
  const m = /^(\[[^\]]*\]|[^:]*)(?::(\d+))?$/.exec(hostPort);
  if (!m) return hostKey(hostPort);
  const host = m[1].startsWith('[') ? m[1].slice(1, -1) : m[1];
  return hostKey(host, m[2] === undefined ? undefined : Number(m[2]));
}

/** Builds a signature from its request-line part and an already computed body part. */
export function composeSignature(method: string, host: string, target: string, bodyPart: string): Signature {
  const rest = bodyPart ? `${target} ${bodyPart}` : target;
  return { key: `${method} ${host}${rest}`, method, host, target, rest };
}

/** Path and sorted query: the part of the key between the host and the body. */
export function targetOf(facts: RequestFacts, rules: SignatureRules): string {
  const query = sortedPairs(facts.query, rules.query);
  const path = facts.path || '/';
  return query ? `${path}?${query}` : path;
}

export function sign(facts: RequestFacts, rules: SignatureRules): Signature {
  return composeSignature(
    facts.method.toUpperCase(),
    facts.host,
    targetOf(facts, rules),
    bodyKey(facts.body, facts.contentType, rules.body),
  );
}

/** A recorded request's signature; a body the recorder cut is keyed by its kept prefix. */
export function signRecorded(req: HttpRequest, rules: SignatureRules): Signature & { prefixLength?: number } {
  const facts = recordedFacts(req);
  if (!req.body?.truncated || !facts.body?.length) return sign(facts, rules);
  const signature = composeSignature(
    facts.method.toUpperCase(),
    facts.host,
    targetOf(facts, rules),
    prefixKey(facts.body),
  );
  return { ...signature, prefixLength: facts.body.length };
}

export function recordedFacts(req: HttpRequest): RequestFacts {
  return {
    method: req.method,
    host: req.host.includes(':') && !isIpv6(req.host) ? authorityKey(req.host) : hostKey(req.host, req.port),
    path: req.path,
    query: req.query,
    contentType: headerValue(req.headers, 'content-type'),
    body: recordedBodyIdentity(req),
  };
}

const isIpv6 = (host: string) => host.indexOf(':') !== host.lastIndexOf(':');

const DECODERS: Record<string, (b: Buffer) => Buffer> = {
  gzip: gunzipSync,
  'x-gzip': gunzipSync,
  deflate: inflateSync,
  br: brotliDecompressSync,
};

/** The recorded request body as identity bytes, so it compares with a live body that is decoded too. */
function recordedBodyIdentity(req: HttpRequest): Buffer | undefined {
  if (!req.body) return undefined;
  const bytes = bodyBytes(req.body);
  const encoding = headerValue(req.headers, 'content-encoding')?.trim().toLowerCase();
  const decode = encoding && !req.body.decodedFrom && !req.body.truncated ? DECODERS[encoding] : undefined;
  if (!decode) return bytes;
  try {
    return decode(bytes);
  } catch {
    return bytes; // labelled but not encoded: the live side falls back to the raw bytes the same way
  }
}
