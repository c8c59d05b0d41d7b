/**
 * What a replay produces besides its report: one ObservedExchange per request the generator
 * sent, streamed to `<home>/replays/<replayId>/observed.ndjson.gz` in completion order.
 */
import { z } from 'zod';
import { Body, HeaderList } from './traffic.js';

export const ObservedExchange = z.object({
  /** Id of the recorded inbound RRPair this request was replayed from. */
  pairId: z.string(),
  /** Pass number (0-based) when the traffic is replayed several times. */
  pass: z.number().int().nonnegative(),
  /** ISO time the request was sent. */
  sentAt: z.string(),
  latencyMs: z.number().nonnegative(),
  request: z.object({ method: z.string(), url: z.string() }),
  response: z
    .object({
      status: z.number().int(),
      headers: HeaderList,
      body: Body.optional(),
      /** HTTP/2 trailers (gRPC: grpc-status, grpc-message). */
      trailers: HeaderList.optional(),
      /** A gRPC call's outcome in the recording's decoded form (src/generator/h2/observed-call.ts). */
      grpc: z.record(z.string(), z.unknown()).optional(),
    })
    .optional(),
  /** Set when no response came: `timeout`, `ECONNREFUSED`, `ECONNRESET`, ... */
  error: z.string().optional(),
});
export type ObservedExchange = z.infer<typeof ObservedExchange>;

/** Responder bookkeeping: how each outbound request of the service under test was answered. */
export const MatchStatus = z.enum(['MATCH', 'NO_MATCH', 'PASSTHROUGH']);
export type MatchStatus = z.infer<typeof MatchStatus>;

export const ResponderRequestRecord = z.object({
  status: MatchStatus,
  method: z.string(),
  url: z.string(),
  signature: z.string(),
  /** For NO_MATCH: the nearest recorded signatures, most similar first. */
  nearest: z.array(z.string()).optional(),
  at: z.string(),
});
export type ResponderRequestRecord = z.infer<typeof ResponderRequestRecord>;

export const ResponderStats = z.object({
  match: z.number().int().nonnegative(),
  noMatch: z.number().int().nonnegative(),
  passthrough: z.number().int().nonnegative(),
  /** Bounded list of the requests that were not matched (first N kept, the rest counted). */
  misses: z.array(ResponderRequestRecord),
  missesDropped: z.number().int().nonnegative(),
});
export type ResponderStats = z.infer<typeof ResponderStats>;
