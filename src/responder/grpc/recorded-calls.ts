/**
 * The recorded outbound gRPC calls, keyed by path and request messages (call-key.ts), each
 * with its prepared replies: response headers, every response message framed uncompressed with
 * its recorded time, and the trailers (grpc-status, grpc-message and the rest as recorded).
 * Several recorded calls with one key are served in recorded order, then per `exhausted`.
 * A call the server answered before the client had finished sending (an interactive stream)
 * is also kept by its opening, the request messages before the first answer, so that a live
 * client that waits for that answer gets it (conversation.ts).
 */
import type { OutgoingHttpHeaders } from 'node:http2';
import type { ResponderConfig } from '../../config/replay.js';
import type { RRPair } from '../../model/traffic.js';
import {
  type GrpcRecord,
  type RRPairV2,
  grpcOf,
  responseTrailers,
} from '../../protocols/grpc/recorded-pair.js';
import { CONNECTION_HEADERS, frameMessage, headerObject, messageBytes } from '../../protocols/grpc/wire.js';
import { callKey, type FieldPaths, messageDigest, openingKey } from './call-key.js';

export interface GrpcReply {
  /** `:status` and the recorded response headers (content-length and grpc-encoding left out). */
  headers: OutgoingHttpHeaders;
  /** Framed messages, each with its recorded time from the end of the request (ms). */
  messages: { frame: Buffer; atMs: number }[];
  /** Absent for a trailers-only answer (the status is in `headers`). */
  trailers?: OutgoingHttpHeaders;
  /** When the trailers came, from the end of the request (ms). */
  endMs: number;
  /** Set when the server answered before the client had finished: the call as a conversation. */
  conversation?: RecordedConversation;
}

/** An interactive call: the request messages in order and when each answer came, all from the call's start (ms). */
export interface RecordedConversation {
  request: { digest: string; atMs: number }[];
  /** Request messages sent before the first response message. */
  opening: number;
  /** The response messages' times, in order (the same messages as the reply's `messages`). */
  responseAtMs: number[];
}

export interface GrpcEntry {
  readonly key: string;
  readonly replies: GrpcReply[];
  served: number;
}

export interface GrpcIndexSummary {
  calls: number;
  keys: number;
  /** Recorded calls with no response (reset, timed out): never answered from. */
  noResponse: number;
}

/** Headers HTTP/2 forbids, or that the replayed body no longer fits. */
const DROPPED = new Set([...CONNECTION_HEADERS, 'te', 'content-length', 'grpc-encoding']);

/** Keys listed per path for a miss's `nearest`. */
const NEAREST_KEYS = 5;

export class RecordedCalls {
  private readonly entries = new Map<string, GrpcEntry>();
  /** Interactive calls by their opening (openingKey); the paths that have any. */
  private readonly openings = new Map<string, GrpcEntry>();
  /** Per path, the longest opening recorded on it (live calls are read that far, message by message). */
  private readonly longestOpening = new Map<string, number>();
  /** Recorded paths, with a few of their keys (what a miss on the path names as nearest). */
  private readonly paths = new Map<string, string[]>();
  private calls = 0;
  private noResponse = 0;

  constructor(
    private readonly ignore: FieldPaths,
    private readonly exhausted: ResponderConfig['exhausted'],
  ) {}

  /** Takes an outbound gRPC pair; false for any other pair (it goes to the HTTP index). */
  add(pair: RRPair): boolean {
    const grpc = grpcOf(pair);
    if (pair.direction !== 'outbound' || !grpc) return false;
    this.calls++;
    if (!pair.response) {
      this.noResponse++;
      return true;
    }
    const key = callKey(pair.request.path, grpc.request.map(messageBytes), this.ignore);
    const keys = this.paths.get(pair.request.path) ?? [];
    if (keys.length < NEAREST_KEYS && !keys.includes(key)) keys.push(key);
    this.paths.set(pair.request.path, keys);
    const reply = prepare(pair, grpc);
    addReply(this.entries, key, reply);
    const conversation = conversationOf(pair as RRPairV2, grpc, this.ignore);
    if (conversation) {
      reply.conversation = conversation;
      const opening = conversation.request.slice(0, conversation.opening).map((m) => m.digest);
      addReply(this.openings, openingKey(pair.request.path, opening), reply);
      const longest = this.longestOpening.get(pair.request.path) ?? 0;
      this.longestOpening.set(pair.request.path, Math.max(longest, conversation.opening));
    }
    return true;
  }

  /** The longest opening of an interactive call recorded on the path; undefined when there is none. */
  longestOpeningOn(path: string): number | undefined {
    return this.longestOpening.get(path);
  }

  /** The interactive calls that open with these messages (openingKey). */
  findOpening(key: string): GrpcEntry | undefined {
    return this.openings.get(key);
  }

  find(key: string): GrpcEntry | undefined {
    return this.entries.get(key);
  }

  /** Some keys recorded on this path; undefined when no call on it was (UNIMPLEMENTED, not NOT_FOUND). */
  keysOn(path: string): readonly string[] | undefined {
    return this.paths.get(path);
  }

  next(entry: GrpcEntry): GrpcReply {
    const n = entry.replies.length;
    const i = entry.served++;
    if (i < n) return entry.replies[i];
    return entry.replies[this.exhausted === 'cycle' ? i % n : n - 1];
  }

  stats(): GrpcIndexSummary {
    return { calls: this.calls, keys: this.entries.size, noResponse: this.noResponse };
  }
}

function addReply(map: Map<string, GrpcEntry>, key: string, reply: GrpcReply): void {
  const entry = map.get(key);
  if (entry) entry.replies.push(reply);
  else map.set(key, { key, replies: [reply], served: 0 });
}

/**
 * The call as a conversation when its first response message came before the request ended
 * (`h2.requestEndMs`, else its last message); undefined for every other call.
 */
function conversationOf(
  pair: RRPairV2,
  grpc: GrpcRecord,
  ignore: FieldPaths,
): RecordedConversation | undefined {
  const first = grpc.response[0]?.offsetMs;
  if (first === undefined || grpc.requestTruncated || grpc.requestOmitted) return undefined;
  const requestEnd = pair.h2?.requestEndMs ?? grpc.request.at(-1)?.offsetMs ?? 0;
  if (!(first < requestEnd)) return undefined;
  return {
    request: grpc.request.map((m) => ({ digest: messageDigest(messageBytes(m), ignore), atMs: m.offsetMs })),
    opening: grpc.request.filter((m) => m.offsetMs <= first).length,
    responseAtMs: grpc.response.map((m) => m.offsetMs),
  };
}

function prepare(pair: RRPair, grpc: GrpcRecord): GrpcReply {
  const res = pair.response!;
  const requestEnd = grpc.request.at(-1)?.offsetMs ?? 0;
  const trailerList = responseTrailers(pair);
  const headers = headerObject(res.headers, DROPPED);
  headers[':status'] = res.status;
  const reply: GrpcReply = {
    headers,
    messages: grpc.response.map((m) => ({
      frame: frameMessage(messageBytes(m)),
      atMs: Math.max(0, m.offsetMs - requestEnd),
    })),
    endMs: Math.max(0, pair.durationMs - requestEnd),
  };
  if (trailerList) reply.trailers = headerObject(trailerList, DROPPED);
  else if (!grpc.trailersOnly && grpc.status !== undefined) {
    reply.trailers = { 'grpc-status': String(grpc.status), 'grpc-message': grpc.message ?? '' };
  }
  return reply;
}

/** Streams the pairs on, keeping the outbound gRPC calls in `calls` (they are not HTTP replies). */
export async function* withoutGrpcCalls(
  pairs: AsyncIterable<RRPair> | Iterable<RRPair>,
  calls: RecordedCalls,
): AsyncIterable<RRPair> {
  for await (const pair of pairs) if (!calls.add(pair)) yield pair;
}
