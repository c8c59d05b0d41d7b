/**
 * PROPOSAL (for review; src/model is unchanged): what an RRPair gains to hold an HTTP/2
 * exchange and a gRPC call, as zod schemas, and the conversion from a decoded exchange.
 * Snapshot format 2 = format 1 plus optional fields, so every format-1 pair is a valid
 * format-2 pair and the reader accepts both versions. See docs/proposals/h2-grpc-format.md.
 */
import { z } from 'zod';
import { encodeBody } from '../../model/body.js';
import { HeaderList, HttpRequest, HttpResponse, RRPair } from '../../model/traffic.js';
import { type H2Exchange, type H2Message, header } from '../http2/exchange.js';
import type { HeaderField } from '../http2/hpack.js';
import type { GrpcCall } from './call.js';
import type { ProtoField } from './protobuf.js';

export const PROPOSED_FORMAT_VERSION = 2;
/** The manifest's `formatVersion` under the proposal: old snapshots still read. */
export const ReadableFormatVersion = z.union([z.literal(1), z.literal(PROPOSED_FORMAT_VERSION)]);

const Int = z.number().int().nonnegative();
const ProtoInt = z.union([Int, z.string().regex(/^\d{1,20}$/)]);
const named = { n: z.number().int().min(1).max(0x1fffffff), name: z.string().optional() };

export const ProtoFieldSchema: z.ZodType<ProtoField> = z.lazy(() =>
  z.discriminatedUnion('t', [
    z.object({ ...named, t: z.enum(['varint', 'fixed64']), v: ProtoInt }),
    z.object({ ...named, t: z.literal('fixed32'), v: Int.max(0xffffffff) }),
    z.object({ ...named, t: z.literal('message'), v: z.array(ProtoFieldSchema) }),
    z.object({ ...named, t: z.literal('string'), v: z.string() }),
    z.object({ ...named, t: z.literal('bytes'), v: z.string().base64() }),
    z.object({ ...named, t: z.literal('packed'), v: z.array(ProtoInt) }),
  ]),
) as z.ZodType<ProtoField>;

export const GrpcMessage = z
  .object({
    offsetMs: z.number().nonnegative(),
    size: Int,
    compressed: z.boolean().optional(),
    encoding: z.string().optional(),
    truncated: z.boolean().optional(),
    fields: z.array(ProtoFieldSchema).optional(),
    raw: z.string().base64().optional(),
    error: z.string().optional(),
  })
  .refine((m) => (m.fields === undefined) !== (m.raw === undefined), {
    message: 'a gRPC message has either `fields` or `raw`',
  });

export const GrpcRecord = z.object({
  service: z.string(),
  method: z.string(),
  requestEncoding: z.string().optional(),
  responseEncoding: z.string().optional(),
  request: z.array(GrpcMessage),
  response: z.array(GrpcMessage),
  requestTruncated: z.boolean().optional(),
  responseTruncated: z.boolean().optional(),
  status: Int.optional(),
  message: z.string().optional(),
  trailersOnly: z.boolean().optional(),
  /** Where field names came from. */
  schema: z.enum(['none', 'reflection']).default('none'),
});
export type GrpcRecord = z.infer<typeof GrpcRecord>;

const Outcome = z.object({ by: z.enum(['client', 'server']), code: Int, name: z.string() });

export const H2Facts = z.object({
  streamId: Int,
  /** Groups the streams of one connection (they shared HPACK state and ordering). */
  connectionId: z.string().optional(),
  /** How HTTP/2 was reached: prior knowledge, `Upgrade: h2c`, or ALPN inside TLS. */
  via: z.enum(['prior-knowledge', 'upgrade', 'alpn']).optional(),
  pushedBy: Int.optional(),
  informational: z.array(HeaderList).optional(),
  /** Header names sent never-indexed (HPACK): DLP masks their values. */
  neverIndexed: z
    .object({ request: z.array(z.string()), response: z.array(z.string()) })
    .partial()
    .optional(),
  reset: Outcome.optional(),
  goaway: Outcome.extend({ lastStreamId: Int }).optional(),
  /** From the request's first byte: its end, the response's first and last byte (ms). */
  requestEndMs: z.number().nonnegative().optional(),
  responseStartMs: z.number().nonnegative().optional(),
});
export type H2Facts = z.infer<typeof H2Facts>;

/** RRPair under format 2. For gRPC the bodies stay out (`grpc` re-encodes them exactly). */
export const RRPairV2 = RRPair.extend({
  request: HttpRequest.extend({ trailers: HeaderList.optional() }),
  response: HttpResponse.extend({ trailers: HeaderList.optional() }).optional(),
  h2: H2Facts.optional(),
  grpc: GrpcRecord.optional(),
}).refine((p) => (p.h2 === undefined && p.grpc === undefined) || p.protocol === 'h2', {
  message: '`h2` and `grpc` need protocol "h2"',
});
export type RRPairV2 = z.infer<typeof RRPairV2>;

/** The parts of a format-2 pair that come from the exchange (ids, service, direction: the caller's). */
export interface H2PairParts {
  method: string;
  scheme: string;
  authority: string;
  /** `:path` as sent, query included (the caller splits it as for HTTP/1.1). */
  target: string;
  request: Pick<z.infer<typeof RRPairV2>['request'], 'headers' | 'trailers' | 'body'>;
  response?: NonNullable<z.infer<typeof RRPairV2>['response']>;
  error?: { code: string; message: string };
  durationMs: number;
  h2: H2Facts;
  grpc?: GrpcRecord;
}

const ms = (from: number, to: number | undefined) =>
  to === undefined ? undefined : Math.max(0, Math.round((to - from) * 1000) / 1000);

/** Format-2 parts of a decoded exchange (and its gRPC call, when it is one). */
export function h2PairParts(
  ex: H2Exchange,
  call?: GrpcCall,
  maxBody = Infinity,
  /** How the connection reached HTTP/2 when not by upgrade (the caller knows ALPN). */
  via: 'prior-knowledge' | 'alpn' = 'prior-knowledge',
): H2PairParts {
  const req = ex.request;
  const regular = (h: HeaderField[]) => h.filter(([n]) => !n.startsWith(':'));
  const body = (m: H2Message) =>
    call || m.body.size === 0 ? undefined : encodeBody(m.body.bytes(), m.body.size, maxBody);
  const h2: H2Facts = { streamId: ex.streamId, via: ex.upgraded ? 'upgrade' : via };
  if (ex.pushedBy !== undefined) h2.pushedBy = ex.pushedBy;
  if (ex.informational) h2.informational = ex.informational;
  if (ex.reset) h2.reset = { by: ex.reset.by, code: ex.reset.code, name: ex.reset.name };
  if (ex.goaway)
    h2.goaway = {
      by: ex.goaway.by,
      code: ex.goaway.code,
      name: ex.goaway.name,
      lastStreamId: ex.goaway.lastStreamId,
    };
  const secret = (m: H2Message) => m.neverIndexed.map((i) => m.headers[i][0]);
  if (req.neverIndexed.length || ex.response?.neverIndexed.length) {
    h2.neverIndexed = { request: secret(req), ...(ex.response && { response: secret(ex.response) }) };
  }
  const requestEndMs = ms(ex.startT, req.endT);
  if (requestEndMs !== undefined) h2.requestEndMs = requestEndMs;
  const parts: H2PairParts = {
    method: header(req.headers, ':method') ?? '',
    scheme: header(req.headers, ':scheme') ?? 'http',
    authority: header(req.headers, ':authority') ?? header(req.headers, 'host') ?? '',
    target: header(req.headers, ':path') ?? '',
    request: { headers: regular(req.headers) },
    durationMs: ms(ex.startT, ex.endT) ?? 0,
    h2,
  };
  const reqBody = body(req);
  if (reqBody) parts.request.body = reqBody;
  if (req.trailers) parts.request.trailers = req.trailers;
  const res = ex.response;
  if (res) {
    h2.responseStartMs = ms(ex.startT, res.startT);
    parts.response = { status: Number(header(res.headers, ':status') ?? 0), headers: regular(res.headers) };
    const resBody = body(res);
    if (resBody) parts.response.body = resBody;
    if (res.trailers) parts.response.trailers = res.trailers;
  }
  if (ex.error) parts.error = ex.error;
  if (call) parts.grpc = { ...call, schema: hasNames(call) ? 'reflection' : 'none' };
  return parts;
}

function hasNames(call: GrpcCall): boolean {
  return [...call.request, ...call.response].some((m) => m.fields?.some((f) => f.name !== undefined));
}
