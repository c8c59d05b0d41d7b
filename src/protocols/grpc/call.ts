/**
 * A recorded HTTP/2 exchange read as a gRPC call: service and method from `:path`, every
 * message of both sides decoded without a schema (in order, with its time offset), and the
 * status from the trailers (or from the headers of a trailers-only response).
 */
import { type H2Exchange, type H2Message, header } from '../http2/exchange.js';
import type { HeaderField } from '../http2/hpack.js';
import { type GrpcFrame, readGrpcFrames } from './messages.js';
import { type ProtoField, decodeMessage } from './protobuf.js';

export interface GrpcMessageRecord {
  /** Milliseconds from the start of the call to the arrival of the message's last byte. */
  offsetMs: number;
  /** Bytes on the wire after the 5-byte prefix (compressed size when compressed). */
  size: number;
  compressed?: boolean;
  /** Compressed with an encoding kept raw (not gzip/deflate): `raw` holds the compressed bytes. */
  encoding?: string;
  /** The body was cut inside this message: `raw` holds its first bytes. */
  truncated?: boolean;
  /** The decoded message; absent when the bytes are not a protobuf message (then `raw`). */
  fields?: ProtoField[];
  /** Base64 of the message bytes when they could not be decoded into fields. */
  raw?: string;
  error?: string;
}

export interface GrpcCall {
  service: string;
  method: string;
  requestEncoding?: string;
  responseEncoding?: string;
  request: GrpcMessageRecord[];
  response: GrpcMessageRecord[];
  /** A body was cut (cap or tap gap): messages past the cut are missing. */
  requestTruncated?: boolean;
  responseTruncated?: boolean;
  /** Whole messages past the per-call message cap: counted, not kept. */
  requestOmitted?: number;
  responseOmitted?: number;
  /** `grpc-status` and the percent-decoded `grpc-message`; absent when the call did not end. */
  status?: number;
  message?: string;
  /** The server answered with one HEADERS frame carrying the status (no messages, no trailers). */
  trailersOnly?: boolean;
}

/** True for gRPC content types (`application/grpc`, `application/grpc+proto`, ...), not grpc-web. */
export function isGrpc(headers: HeaderField[]): boolean {
  const ct = header(headers, 'content-type')?.toLowerCase() ?? '';
  return (
    ct === 'application/grpc' || ct.startsWith('application/grpc+') || ct.startsWith('application/grpc;')
  );
}

/** `/package.Service/Method` into its service (with package) and method. */
export function parseGrpcPath(path: string): { service: string; method: string } | undefined {
  const m = /^\/([^/?#]+)\/([^/?#]+)$/.exec(path);
  return m ? { service: m[1], method: m[2] } : undefined;
}

/**
 * The gRPC call of an exchange, or undefined when the exchange is not gRPC. `maxMessage` bounds
 * a decompressed message; `maxMessages` the messages kept per side (the rest are counted).
 */
export function grpcCall(
  ex: H2Exchange,
  maxMessage = 4 * 1024 * 1024,
  maxMessages = DEFAULT_MAX_MESSAGES,
): GrpcCall | undefined {
  const req = ex.request;
  if (!isGrpc(req.headers)) return undefined;
  const where = parseGrpcPath(header(req.headers, ':path') ?? '');
  // A literal, not a spread: spreading made this object slow (dictionary mode) in V8.
  const call: GrpcCall = {
    service: where?.service ?? '',
    method: where?.method ?? '',
    request: [],
    response: [],
  };
  const reqEnc = header(req.headers, 'grpc-encoding');
  if (reqEnc) call.requestEncoding = reqEnc;
  const reqSide = messages(req, reqEnc, ex.startT, maxMessage, maxMessages);
  call.request = reqSide.records;
  if (reqSide.truncated) call.requestTruncated = true;
  if (reqSide.omitted) call.requestOmitted = reqSide.omitted;
  const res = ex.response;
  if (res) {
    const resEnc = header(res.headers, 'grpc-encoding');
    if (resEnc) call.responseEncoding = resEnc;
    const resSide = messages(res, resEnc, ex.startT, maxMessage, maxMessages);
    call.response = resSide.records;
    if (resSide.truncated) call.responseTruncated = true;
    if (resSide.omitted) call.responseOmitted = resSide.omitted;
    const statusFrom = res.trailers ?? res.headers;
    const status = header(statusFrom, 'grpc-status');
    if (status !== undefined && /^\d+$/.test(status.trim())) {
      call.status = Number(status);
      const msg = header(statusFrom, 'grpc-message');
      if (msg !== undefined) call.message = percentDecode(msg);
      if (!res.trailers) call.trailersOnly = true;
    }
  }
  return call;
}

/** Messages kept per side of a call by default; a long stream's later ones are counted. */
export const DEFAULT_MAX_MESSAGES = 1000;

function messages(
  msg: H2Message,
  encoding: string | undefined,
  startT: number,
  maxMessage: number,
  maxMessages: number,
): { records: GrpcMessageRecord[]; truncated: boolean; omitted: number } {
  const framing = readGrpcFrames(msg.body, encoding, maxMessage, maxMessages);
  return {
    records: framing.frames.map((f) => record(f, startT)),
    truncated: framing.truncated,
    omitted: framing.omitted,
  };
}

function record(f: GrpcFrame, startT: number): GrpcMessageRecord {
  const r: GrpcMessageRecord = {
    offsetMs: Math.max(0, Math.round((f.t - startT) * 1000) / 1000),
    size: f.size,
  };
  if (f.compressed) r.compressed = true;
  if (f.rawEncoding) r.encoding = f.rawEncoding;
  if (f.error) r.error = f.error;
  if (f.truncated) r.truncated = true;
  const fields = f.truncated || f.rawEncoding ? undefined : decodeMessage(f.data);
  if (fields) r.fields = fields;
  else r.raw = f.data.toString('base64');
  return r;
}

/** grpc-message is percent-encoded UTF-8; a malformed escape is kept as sent. */
function percentDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
