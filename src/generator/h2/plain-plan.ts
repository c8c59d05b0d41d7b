/**
 * A recorded inbound plain HTTP/2 request (not gRPC), ready to send: the recorded method, path
 * and query under the target's prefix, the recorded regular headers HTTP/2 allows (lowercase, in
 * order, repeats kept), and the recorded body as DATA. Request trailers are not replayed.
 */
import { bodyBytes } from '../../model/body.js';
import { HOP_BY_HOP_HEADERS } from '../../model/headers.js';
import type { RRPair } from '../../model/traffic.js';
import { encodeQuery, safePath } from '../wire.js';
import { encodeHeaderBlock, requestFrames } from './frames-out.js';
import { observedHead, type PlannedCall, pseudoHeaders } from './grpc-plan.js';

/** Never replayed as recorded: connection-specific (RFC 9113 8.2.2), or set from the body sent. */
const DROPPED = new Set([...HOP_BY_HOP_HEADERS, 'host', 'content-length', 'expect']);

const LINE_BREAK = /[\r\n]/;
const LINE_BREAKS = /[\r\n]+/g;

export function planPlainRequest(pair: RRPair, offsetMs: number, target: URL): PlannedCall {
  const req = pair.request;
  const method = req.method.toUpperCase();
  const path = target.pathname.replace(/\/+$/, '') + safePath(req.path) + encodeQuery(req.query);
  const fields = pseudoHeaders(method, target, path);
  for (const [rawName, value] of req.headers) {
    const name = rawName.toLowerCase();
    if (name.startsWith(':') || DROPPED.has(name)) continue;
    // A line break in a value is malformed in HTTP/2 (RFC 9113 8.2.1): the stream would be reset.
    fields.push([name, LINE_BREAK.test(value) ? value.replace(LINE_BREAKS, ' ') : value]);
  }
  const body = bodyBytes(req.body);
  if (body.length > 0) fields.push(['content-length', String(body.length)]);
  return {
    pairId: pair.id,
    grpc: false,
    frames: requestFrames(encodeHeaderBlock(fields), body),
    offsetMs,
    observedHead: observedHead(pair.id, method, `${target.origin}${path}`),
  };
}
