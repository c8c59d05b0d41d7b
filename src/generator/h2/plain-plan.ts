/**
 * A recorded inbound plain HTTP/2 request (not gRPC), ready to send: planned from the same draft
 * as an HTTP/1.1 one (`draftOf` in request-plan.ts: the recorded method, path, query, regular
 * headers and body, after the transforms), under the target's prefix, headers lowercase as
 * HTTP/2 wants them. Encoded once, or at every send when a transform left slots for the send
 * time. Request trailers are not replayed.
 */
import type { RRPair } from '../../model/traffic.js';
import { draftOf } from '../request-plan.js';
import type { RequestTransform } from '../transforms/index.js';
import { isDynamic, type DraftRequest } from '../transforms/draft.js';
import { renderText, type SendContext, type Text } from '../transforms/text.js';
import { encodeQuery, safePath } from '../wire.js';
import { encodeHeaderBlock, type RequestFrames, requestFrames } from './frames-out.js';
import { observedHead, type PlannedCall, pseudoHeaders } from './grpc-plan.js';

const LINE_BREAK = /[\r\n]/;
const LINE_BREAKS = /[\r\n]+/g;

export function planPlainRequest(
  pair: RRPair,
  offsetMs: number,
  target: URL,
  transforms: readonly RequestTransform[] = [],
): PlannedCall {
  const prefix = target.pathname.replace(/\/+$/, '');
  const at = Date.parse(pair.startedAt);
  const draft = draftOf({ id: pair.id, request: pair.request, startedAtMs: at }, target.host, transforms);
  const encode = (ctx: SendContext): { path: string; frames: RequestFrames } => {
    const path = prefix + safePath(renderText(draft.path, ctx)) + renderQuery(draft, ctx);
    const fields = pseudoHeaders(draft.method, target.protocol, draft.host, path);
    for (const [name, value] of draft.headers)
      fields.push([name.toLowerCase(), oneLine(renderText(value, ctx))]);
    const body = Buffer.isBuffer(draft.body) ? draft.body : Buffer.from(renderText(draft.body, ctx), 'utf8');
    if (body.length > 0) fields.push(['content-length', String(body.length)]);
    return { path, frames: requestFrames(encodeHeaderBlock(fields), body) };
  };
  // The observed line names the request as recorded (its slots filled with the recorded time).
  const recorded = encode({ nowMs: at });
  const call: PlannedCall = {
    pairId: pair.id,
    grpc: false,
    frames: recorded.frames,
    offsetMs,
    observedHead: observedHead(pair.id, draft.method, `${target.origin}${recorded.path}`),
  };
  return isDynamic(draft) ? { ...call, render: (nowMs) => encode({ nowMs }).frames } : call;
}

const renderQuery = (d: DraftRequest, ctx: SendContext) =>
  encodeQuery(d.query.map(([k, v]: [Text, Text]) => [renderText(k, ctx), renderText(v, ctx)]));

/** A line break in a value is malformed in HTTP/2 (RFC 9113 8.2.1): the stream would be reset. */
const oneLine = (value: string) => (LINE_BREAK.test(value) ? value.replace(LINE_BREAKS, ' ') : value);
