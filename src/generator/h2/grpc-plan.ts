/**
 * The recorded inbound gRPC calls of a recording, ready to send: `:path`, the recorded request
 * headers HTTP/2 allows, and every request message framed uncompressed in one body. A pass is
 * held in memory (at most MAX_HELD_CALLS calls: a bigger gRPC recording is refused with a
 * clear error rather than read without bound).
 */
import picomatch from 'picomatch';
import type { RRPair } from '../../model/traffic.js';
import { grpcOf } from '../../protocols/grpc/recorded-pair.js';
import { CONNECTION_HEADERS, frameMessage, headerObject, messageBytes } from '../../protocols/grpc/wire.js';
import { GeneratorConfigError } from '../errors.js';
import type { PairSource } from '../request-plan.js';
import { encodeHeaderBlock, requestFrames, type RequestFrames } from './frames-out.js';

export const MAX_HELD_CALLS = 200_000;

export interface PlannedCall {
  readonly pairId: string;
  /** HEADERS and DATA frames, encoded once (stream ids written in at send time). */
  readonly frames: RequestFrames;
  /** Recorded offset from the first replayed call (ms). */
  readonly offsetMs: number;
  /** JSON members `"pairId":..,"request":{..}` every observed line of this call starts with. */
  readonly observedHead: string;
}

export interface GrpcPlan {
  calls: PlannedCall[];
  /** First to last call, recorded (ms). */
  spanMs: number;
  /** Inbound pairs not replayed: not gRPC, not matching `include`, or without a valid time. */
  skipped: number;
}

/** Request headers HTTP/2 forbids, or that the replayed body no longer fits. */
const DROPPED = new Set([...CONNECTION_HEADERS, 'host', 'content-length', 'grpc-encoding']);

/** True when the recording's first inbound pair is a gRPC call: the recording is replayed as gRPC. */
export async function isGrpcRecording(open: PairSource): Promise<boolean> {
  for await (const pair of open()) {
    if (pair.direction === 'inbound') return grpcOf(pair) !== undefined;
  }
  return false;
}

export async function planGrpcCalls(
  open: PairSource,
  target: URL,
  include: readonly string[] | undefined,
): Promise<GrpcPlan> {
  const included = include?.length ? picomatch([...include], { dot: true }) : () => true;
  const found: { pair: RRPair; at: number }[] = [];
  let skipped = 0;
  for await (const pair of open()) {
    if (pair.direction !== 'inbound') continue;
    const at = Date.parse(pair.startedAt);
    if (!grpcOf(pair) || !included(pair.request.path) || !Number.isFinite(at)) {
      skipped++;
      continue;
    }
    if (found.length >= MAX_HELD_CALLS) {
      throw new GeneratorConfigError(
        'pairs',
        `a gRPC recording is replayed from memory: at most ${MAX_HELD_CALLS} calls`,
      );
    }
    found.push({ pair, at });
  }
  found.sort((a, b) => a.at - b.at);
  const first = found[0]?.at ?? 0;
  const calls = found.map(({ pair, at }) => plan(pair, at - first, target));
  return { calls, spanMs: (found.at(-1)?.at ?? first) - first, skipped };
}

function plan(pair: RRPair, offsetMs: number, target: URL): PlannedCall {
  const grpc = grpcOf(pair)!;
  const prefix = target.pathname.replace(/\/$/, '');
  const path = `${prefix}${pair.request.path}`;
  const headers = headerObject(pair.request.headers, DROPPED);
  headers['content-type'] ??= 'application/grpc';
  headers.te = 'trailers';
  const fields: [string, string][] = [
    [':method', 'POST'],
    [':scheme', target.protocol === 'https:' ? 'https' : 'http'],
    [':authority', target.host],
    [':path', path],
  ];
  for (const [name, value] of Object.entries(headers)) {
    for (const v of Array.isArray(value) ? value : [value]) fields.push([name, String(v)]);
  }
  const body = Buffer.concat(grpc.request.map((m) => frameMessage(messageBytes(m))));
  const url = `${target.origin}${path}`;
  return {
    pairId: pair.id,
    frames: requestFrames(encodeHeaderBlock(fields), body),
    offsetMs,
    observedHead: `"pairId":${JSON.stringify(pair.id)},"request":${JSON.stringify({ method: 'POST', url })}`,
  };
}
