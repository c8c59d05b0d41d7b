/** Brings a request mockttp received (proxied, tunnelled or direct) to the facts a signature is made of. */
import type { CompletedRequest } from 'mockttp';
import type { MaybePromise } from './maybe-promise.js';
import { authorityKey, type RequestFacts } from './signature.js';

const NO_QUERY: readonly [string, string][] = [];

/** Synchronous unless the body has a content-encoding to undo. */
export function liveFacts(req: CompletedRequest): MaybePromise<RequestFacts> {
  // mockttp makes `url` absolute from the request line, the CONNECT target or the Host header;
  // `path` keeps the target as it was sent (percent-encoding untouched), like the recorder does.
  const q = req.path.indexOf('?');
  const path = q === -1 ? req.path : req.path.slice(0, q);
  const query = q === -1 ? NO_QUERY : new URLSearchParams(req.path.slice(q + 1));
  const contentType = req.headers['content-type'];
  const facts: RequestFacts = {
    method: req.method,
    host: hostOf(urlAuthority(req.url)),
    path,
    query,
    contentType: Array.isArray(contentType) ? contentType[0] : contentType,
  };
  const raw = req.body.buffer;
  if (raw.length === 0) return facts;
  const encoding = req.headers['content-encoding'];
  if (!encoding || encoding === 'identity') return { ...facts, body: raw };
  // An undecodable body is compared as sent, as the recorded side does.
  return req.body
    .getDecodedBuffer()
    .catch(() => undefined)
    .then((decoded) => ({ ...facts, body: decoded ?? raw }));
}

/** A replay calls few distinct hosts: their keys are memoised (bounded; a pure function). */
const hostKeys = new Map<string, string>();
const HOST_KEYS_MAX = 1024;

/** The host key of a URL authority or Host header. */
export function hostOf(authority: string): string {
  let key = hostKeys.get(authority);
  if (key === undefined) {
    key = authorityKey(authority);
    if (hostKeys.size >= HOST_KEYS_MAX) hostKeys.clear();
    hostKeys.set(authority, key);
  }
  return key;
}

export function urlAuthority(url: string): string {
  const start = url.indexOf('://') + 3;
  let end = start;
  while (end < url.length) {
    const c = url.charCodeAt(end);
    if (c === 47 /* / */ || c === 63 /* ? */ || c === 35 /* # */) break;
    end++;
  }
  return url.slice(start, end);
}
