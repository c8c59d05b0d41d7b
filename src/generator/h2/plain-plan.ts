/**
 * A recorded inbound plain HTTP/2 request (not gRPC), ready to send: the recorded method, path
 * and query under the target's prefix, the recorded regular headers HTTP/2 allows (lowercase, in
 * order, repeats kept), and the recorded body as DATA. Request trailers are not replayed.
 * With transforms the request is planned from the same draft as an HTTP/1.1 one
 * (request-plan.ts): what they fill in at send time is rendered, and encoded, per send.
 */
import { bodyBytes } from '../../model/body.js';
import { HOP_BY_HOP_HEADERS } from '../../model/headers.js';
import type { RRPair } from '../../model/traffic.js';
import { draftOf } from '../request-plan.js';
import type { RequestTransform } from '../transforms/index.js';
import { isDynamic, type DraftRequest } from '../transforms/draft.js';
import { renderText, type SendContext, type Text } from '../transforms/text.js';
import { encodeQuery, safePath } from '../wire.js';
import { encodeHeaderBlock, type RequestFrames, requestFrames } from './frames-out.js';
import { observedHead, type PlannedCall, pseudoHeaders } from './grpc-plan.js';

/** Never replayed as recorded: connection-specific (RFC 9113 8.2.2), or set from the body sent. */
const DROPPED = new Set([...HOP_BY_HOP_HEADERS, 'host', 'content-length', 'expect']);

const LINE_BREAK = /[\r\n]/;
const LINE_BREAKS = /[\r\n]+/g;

export function planPlainRequest(
  pair: RRPair,
  offsetMs: number,
  target: URL,
  transforms: readonly RequestTransform[] = [],
): PlannedCall {
  const req = pair.request;
  const prefix = target.pathname.replace(/\/+$/, '');
  if (transforms.length > 0) return planDraft(pair, offsetMs, target, prefix, transforms);
  const method = req.method.toUpperCase();
  const path = prefix + safePath(req.path) + encodeQuery(req.query);
  const fields = pseudoHeaders(method, target.protocol, target.host, path);
  for (const [rawName, value] of req.headers) {
    const name = rawName.toLowerCase();
    if (name.startsWith(':') || DROPPED.has(name)) continue;
    fields.push([name, oneLine(value)]);
  }
  return planned(pair.id, offsetMs, target, method, path, frames(fields, bodyBytes(req.body)));
}

/** After the transforms: encoded once, or at every send when they left slots for the send time. */
function planDraft(
  pair: RRPair,
  offsetMs: number,
  target: URL,
  prefix: string,
  transforms: readonly RequestTransform[],
): PlannedCall {
  const at = Date.parse(pair.startedAt);
  const draft = draftOf({ id: pair.id, request: pair.request, startedAtMs: at }, target.host, transforms);
  const encode = (ctx: SendContext): { path: string; frames: RequestFrames } => {
    const path = prefix + safePath(renderText(draft.path, ctx)) + renderQuery(draft, ctx);
    const fields = pseudoHeaders(draft.method, target.protocol, draft.host, path);
    for (const [name, value] of draft.headers)
      fields.push([name.toLowerCase(), oneLine(renderText(value, ctx))]);
    const body = Buffer.isBuffer(draft.body) ? draft.body : Buffer.from(renderText(draft.body, ctx), 'utf8');
    return { path, frames: frames(fields, body) };
  };
  // The observed line names the request as recorded (its slots filled with the recorded time).
  const recorded = encode({ nowMs: at });
  const call = planned(pair.id, offsetMs, target, draft.method, recorded.path, recorded.frames);
  return isDynamic(draft) ? { ...call, render: (nowMs) => encode({ nowMs }).frames } : call;
}

const renderQuery = (d: DraftRequest, ctx: SendContext) =>
  encodeQuery(d.query.map(([k, v]: [Text, Text]) => [renderText(k, ctx), renderText(v, ctx)]));

/** A line break in a value is malformed in HTTP/2 (RFC 9113 8.2.1): the stream would be reset. */
const oneLine = (value: string) => (LINE_BREAK.test(value) ? value.replace(LINE_BREAKS, ' ') : value);

function frames(fields: [string, string][], body: Buffer): RequestFrames {
  if (body.length > 0) fields.push(['content-length', String(body.length)]);
  return requestFrames(encodeHeaderBlock(fields), body);
}

function planned(
  pairId: string,
  offsetMs: number,
  target: URL,
  method: string,
  path: string,
  requestFrames: RequestFrames,
): PlannedCall {
  return {
    pairId,
    grpc: false,
    frames: requestFrames,
    offsetMs,
    observedHead: observedHead(pairId, method, `${target.origin}${path}`),
  };
}
