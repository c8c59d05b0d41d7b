/**
 * The recorded inbound HTTP/2 requests of a recording, in recorded time order, each planned
 * for its kind: a gRPC call (grpc-plan) or a plain HTTP/2 request (plain-plan). A pass is held
 * in memory (at most MAX_HELD_CALLS requests: a bigger recording is refused with a clear error
 * rather than read without bound). Replayed HTTP/1.1 requests among them refuse the recording
 * (protocol-choice.ts). With several generators, this one's share is the k-th replayed request
 * in recording order for k mod N = its index, as for HTTP/1.1 (src/generator/shard.ts); the
 * mix is checked on the whole recording, so every replica decides alike. Transforms apply to
 * plain requests; a recording with gRPC calls is refused when transforms are given (they edit
 * text, headers and JSON, not protobuf messages).
 */
import type { Shard } from '../../config/replicas.js';
import type { RRPair } from '../../model/traffic.js';
import { grpcOf } from '../../protocols/grpc/recorded-pair.js';
import { GeneratorConfigError } from '../errors.js';
import { replayableFilter, type PairSource } from '../request-plan.js';
import { type PlannedCall, planGrpcCall } from './grpc-plan.js';
import { planPlainRequest } from './plain-plan.js';
import type { CaptureWindow } from '../transforms/date-shift.js';
import type { RequestTransform } from '../transforms/index.js';
import { type KindSeen, mixedProtocols } from './protocol-choice.js';

/** Compiles the replay's transforms for the recording's window (none: an empty list). */
export type CompileTransforms = (window: CaptureWindow) => RequestTransform[];

export const MAX_HELD_CALLS = 200_000;

export interface H2Plan {
  calls: PlannedCall[];
  /** First to last call, recorded (ms). */
  spanMs: number;
  /** Inbound pairs not replayed: not matching `include`, CONNECT, or without a valid time. */
  skipped: number;
  /** gRPC calls among the replayed requests (every replica's). */
  grpc: number;
}

export async function planH2Calls(
  open: PairSource,
  target: URL,
  include: readonly string[] | undefined,
  shard: Shard = { index: 0, count: 1 },
  compile: CompileTransforms = () => [],
): Promise<H2Plan> {
  const replayable = replayableFilter(include);
  let k = 0;
  const found: { pair: RRPair; at: number }[] = [];
  const http1: KindSeen = { count: 0, first: undefined };
  let skipped = 0;
  const window = { startMs: Infinity, endMs: -Infinity };
  let grpc = 0;
  for await (const pair of open()) {
    if (pair.direction !== 'inbound') continue;
    const at = Date.parse(pair.startedAt);
    if (!replayable(pair, at)) {
      skipped++;
      continue;
    }
    window.startMs = Math.min(window.startMs, at);
    window.endMs = Math.max(window.endMs, at + pair.durationMs);
    if (pair.protocol === 'h2' && grpcOf(pair)) grpc++;
    const mine = k++ % shard.count === shard.index;
    if (pair.protocol !== 'h2') {
      http1.count++;
      http1.first ??= `${pair.request.method} ${pair.request.path}`;
      continue;
    }
    if (!mine) continue;
    if (found.length >= MAX_HELD_CALLS) {
      throw new GeneratorConfigError(
        'pairs',
        `an HTTP/2 recording is replayed from memory: at most ${MAX_HELD_CALLS} requests`,
      );
    }
    found.push({ pair, at });
  }
  if (http1.count > 0) {
    const first = found[0] && `${found[0].pair.request.method} ${found[0].pair.request.path}`;
    throw mixedProtocols({ count: found.length, first }, http1);
  }
  const transforms = found.length ? compile(window) : [];
  if (transforms.length > 0 && grpc > 0) {
    throw new GeneratorConfigError(
      'transforms',
      `transforms edit HTTP requests, not gRPC messages, and the recording has ${grpc} gRPC calls: give none, or narrow load.include to the plain HTTP/2 paths`,
    );
  }
  found.sort((a, b) => a.at - b.at);
  const start = found[0]?.at ?? 0;
  const calls = found.map(({ pair, at }) =>
    grpcOf(pair)
      ? planGrpcCall(pair, at - start, target)
      : planPlainRequest(pair, at - start, target, transforms),
  );
  return { calls, spanMs: (found.at(-1)?.at ?? start) - start, skipped, grpc };
}
