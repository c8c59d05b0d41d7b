/**
 * The responder's hot path, ahead of mockttp: an HTTP/1.1 request whose signature is recorded is
 * answered straight from the node:http request. mockttp's request preprocessing, rule matching,
 * body buffering and event plumbing cost more per request than the whole lookup and reply (a
 * static mockttp rule is slower than answering here; profiled under autocannon). A body is read
 * here when its length is known and small and it is not content-encoded; when its signature is
 * not recorded it is given back (`unshift`, before the stream ends) and mockttp reads it as if
 * untouched. Everything else goes to mockttp exactly as before: encoded or chunked bodies,
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
/** Bodies up to this size are read here; bigger ones go to mockttp, which buffers them itself. */
const DIRECT_BODY_MAX = 1024 * 1024;
/** A host, `host:port`, or a dotted IPv4: what mockttp's URL normalisation leaves as it is (bar case). */
const PLAIN_AUTHORITY = /^[A-Za-z0-9.-]+(?::\d{1,5})?$/;

/** Wraps mockttp's request listener: requests the responder can answer directly never reach it. */
export function directListener(answers: Answers, mockttp: RequestListener): RequestListener {
  return (req, res) => {
    const facts = directFacts(req);
    if (!facts) return mockttp(req, res);
    const length = bodyLength(req);
    if (length === 0) {
      if (!answer(answers, facts, res)) mockttp(req, res);
      return;
    }
    readBody(req, length, (body) => {
      facts.body = body;
      if (answer(answers, facts, res)) return;
      req.unshift(body);
      mockttp(req, res);
    });
  };
}

/** Answers from the recording; false when the request must go to mockttp. */
function answer(answers: Answers, facts: RequestFacts, res: ServerResponse): boolean {
  const reply = answers.directReply(facts);
  if (!reply) return false;
  if (reply.delayMs > 0) setTimeout(() => write(res, reply.response), reply.delayMs);
  else write(res, reply.response);
  return true;
}

/**
 * The length of a body this path reads: 0 for none; -1 sends the request to mockttp (a body of
 * unknown length, too big, or content-encoded: it must be decoded before it is signed).
 */
function bodyLength(req: IncomingMessage): number {
  const length = req.headers['content-length'];
  if (length === undefined || length === '0') return 0;
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding !== 'identity') return -1;
  const n = /^\d{1,7}$/.test(length) ? Number(length) : -1;
  return n <= DIRECT_BODY_MAX ? n : -1;
}

/**
 * Reads a body of `length` bytes and calls `done` with it in the same tick as the last read, so
 * that it can still be given back with `req.unshift` (not once the stream has ended). A request
 * aborted before its body is whole is left alone, as mockttp would leave it.
 */
function readBody(req: IncomingMessage, length: number, done: (body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  let got = 0;
  const onReadable = () => {
    for (let chunk = req.read() as Buffer | null; chunk !== null; chunk = req.read() as Buffer | null) {
      chunks.push(chunk);
      got += chunk.length;
    }
    if (got < length) return;
    req.off('readable', onReadable);
    done(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, got));
  };
  req.on('readable', onReadable);
}

/** The signature facts of a request this path may answer; undefined sends it to mockttp. */
export function directFacts(req: IncomingMessage): RequestFacts | undefined {
  if (req.httpVersionMajor !== 1) return undefined;
  const h = req.headers;
  if (h['transfer-encoding'] !== undefined || h.expect !== undefined || bodyLength(req) < 0) return undefined;
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
    contentType: h['content-type'],
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
