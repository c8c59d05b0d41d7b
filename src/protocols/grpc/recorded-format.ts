/**
 * A decoded HTTP/2 exchange (and its gRPC call) into the parts of a format-2 pair
 * (src/model/h2.ts, docs/proposals/h2-grpc-format.md): what the stream says; the caller adds
 * ids, service, direction and where the request went.
 */
import type { z } from 'zod';
import { encodeBody } from '../../model/body.js';
import type { GrpcRecord, H2Facts } from '../../model/h2.js';
import { RRPair } from '../../model/traffic.js';
import { type H2Exchange, type H2Message, header } from '../http2/exchange.js';
import type { HeaderField } from '../http2/hpack.js';
import type { GrpcCall } from './call.js';

/** The pair schema, format 2 (kept under this name for the tests written against the proposal). */
export const RRPairV2 = RRPair;
export type RRPairV2 = z.infer<typeof RRPair>;

/** The parts of a format-2 pair that come from the exchange (ids, service, direction: the caller's). */
export interface H2PairParts {
  method: string;
  scheme: string;
  authority: string;
  /** `:path` as sent, query included (the caller splits it as for HTTP/1.1). */
  target: string;
  request: Pick<RRPairV2['request'], 'headers' | 'trailers' | 'body'>;
  response?: NonNullable<RRPairV2['response']>;
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
  /** How the connection reached HTTP/2 (stream 1 of an upgrade says so itself). */
  via: 'prior-knowledge' | 'upgrade' | 'alpn' = 'prior-knowledge',
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
  if (call) parts.grpc = grpcRecord(call);
  return parts;
}

/** The stored form of a call: `schema` says whether its fields carry names (from reflection). */
export function grpcRecord(call: GrpcCall): GrpcRecord {
  const named = [...call.request, ...call.response].some((m) => m.fields?.some((f) => f.name !== undefined));
  return { ...call, schema: named ? 'reflection' : 'none' };
}
