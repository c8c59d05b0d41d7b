/**
 * The responder's hot path, ahead of mockttp: a bodiless HTTP/1.1 request whose signature is
 * recorded is answered straight from the node:http request. mockttp's request preprocessing,
 * rule matching, body buffering and event plumbing cost more per request than the whole lookup
 * and reply (a static mockttp rule is slower than answering here; profiled under autocannon).
 * Everything else goes to mockttp exactly as before: request bodies (they need decoding),
 * requests inside CONNECT tunnels (mockttp knows their destination), HTTP/2, `Expect`, misses
 * and admin paths, and recorded replies that close or reset the connection. So this path only
 * answers what mockttp's callback rule would have answered, the same way.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { LastTunnelAddress } from 'mockttp/dist/util/socket-extensions';
import type { Answers } from './answers.js';
import type { PreparedResponse } from './recorded-reply.js';
import { hostOf } from './live-request.js';
import type { RequestFacts } from './signature.js';

const NO_QUERY: readonly [string, string][] = [];
/** A host, `host:port`, or a dotted IPv4: what mockttp's URL normalisation leaves as it is (bar case). */
const PLAIN_AUTHORITY = /^[A-Za-z0-9.-]+(?::\d{1,5})?$/;

/** Wraps mockttp's request listener: requests the responder can answer directly never reach it. */
export function directListener(answers: Answers, mockttp: RequestListener): RequestListener {
  return (req, res) => {
    const facts = directFacts(req);
    const reply = facts && answers.directReply(facts);
    if (!reply) return mockttp(req, res);
    if (reply.delayMs > 0) setTimeout(() => write(res, reply.response), reply.delayMs);
    else write(res, reply.response);
  };
}

/** The signature facts of a request this path may answer; undefined sends it to mockttp. */
export function directFacts(req: IncomingMessage): RequestFacts | undefined {
  if (req.httpVersionMajor !== 1) return undefined;
  const h = req.headers;
  const length = h['content-length'];
  if (
    h['transfer-encoding'] !== undefined ||
    (length !== undefined && length !== '0') ||
    h.expect !== undefined
  )
    return undefined;
  if ((req.socket as Socket & { [LastTunnelAddress]?: string })[LastTunnelAddress] !== undefined)
    return undefined;
  const url = req.url ?? '';
  let authority: string | undefined;
  let target: string;
  if (url.charCodeAt(0) === 47 /* / */) {
    authority = h.host;
    target = url;
  } else {
    // Absolute form (the responder as HTTP_PROXY): host and path are taken from the URL as mockttp does.
    const scheme = url.slice(0, 8).toLowerCase();
    const start = scheme.startsWith('http://') ? 7 : scheme === 'https://' ? 8 : -1;
    if (start === -1) return undefined;
    const slash = url.indexOf('/', start);
    authority = url.slice(start, slash === -1 ? url.length : slash);
    target = slash === -1 ? '/' : url.slice(slash);
  }
  if (authority === undefined || !PLAIN_AUTHORITY.test(authority)) return undefined;
  const q = target.indexOf('?');
  return {
    method: req.method ?? 'GET',
    host: hostOf(authority),
    path: q === -1 ? target : target.slice(0, q),
    query: q === -1 ? NO_QUERY : new URLSearchParams(target.slice(q + 1)),
  };
}

/** Like mockttp's callback step: the recorded headers only (no Date, no Connection added). */
function write(res: ServerResponse, r: PreparedResponse): void {
  res.removeHeader('connection');
  res.removeHeader('date');
  if (r.statusMessage === undefined) res.writeHead(r.statusCode, r.headers);
  else res.writeHead(r.statusCode, r.statusMessage, r.headers);
  res.end(r.rawBody);
}
