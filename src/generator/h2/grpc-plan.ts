/**
 * A recorded inbound gRPC call, ready to send: `:path`, the recorded request headers HTTP/2
 * allows, and every request message framed uncompressed in one body.
 */
import type { RRPair } from '../../model/traffic.js';
import { grpcOf } from '../../protocols/grpc/recorded-pair.js';
import { CONNECTION_HEADERS, frameMessage, headerObject, messageBytes } from '../../protocols/grpc/wire.js';
import { encodeHeaderBlock, requestFrames, type RequestFrames } from './frames-out.js';

export interface PlannedCall {
  readonly pairId: string;
  /** A gRPC call (its answer is observed decoded into messages), or plain HTTP/2. */
  readonly grpc: boolean;
  /** HEADERS and DATA frames, encoded once (stream ids written in at send time). */
  readonly frames: RequestFrames;
  /** Set when transforms fill something in at send time: the frames for that moment (epoch ms). */
  readonly render?: (nowMs: number) => RequestFrames;
  /** Recorded offset from the first replayed call (ms). */
  readonly offsetMs: number;
  /** JSON members `"pairId":..,"request":{..}` every observed line of this call starts with. */
  readonly observedHead: string;
}

/** Request headers HTTP/2 forbids, or that the replayed body no longer fits. */
const DROPPED = new Set([...CONNECTION_HEADERS, 'host', 'content-length', 'grpc-encoding']);

/** The pseudo-header fields of a replayed request; `protocol` is the target URL's (`https:`). */
export function pseudoHeaders(
  method: string,
  protocol: string,
  authority: string,
  path: string,
): [string, string][] {
  return [
    [':method', method],
    [':scheme', protocol === 'https:' ? 'https' : 'http'],
    [':authority', authority],
    [':path', path],
  ];
}

/** The `request` member of an observed line, after `"pairId"`. */
export const observedHead = (pairId: string, method: string, url: string) =>
  `"pairId":${JSON.stringify(pairId)},"request":${JSON.stringify({ method, url })}`;

export function planGrpcCall(pair: RRPair, offsetMs: number, target: URL): PlannedCall {
  const grpc = grpcOf(pair)!;
  const prefix = target.pathname.replace(/\/$/, '');
  const path = `${prefix}${pair.request.path}`;
  const headers = headerObject(pair.request.headers, DROPPED);
  headers['content-type'] ??= 'application/grpc';
  headers.te = 'trailers';
  const fields = pseudoHeaders('POST', target.protocol, target.host, path);
  for (const [name, value] of Object.entries(headers)) {
    for (const v of Array.isArray(value) ? value : [value]) fields.push([name, String(v)]);
  }
  const body = Buffer.concat(grpc.request.map((m) => frameMessage(messageBytes(m))));
  return {
    pairId: pair.id,
    grpc: true,
    frames: requestFrames(encodeHeaderBlock(fields), body),
    offsetMs,
    observedHead: observedHead(pair.id, 'POST', `${target.origin}${path}`),
  };
}
