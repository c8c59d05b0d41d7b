/**
 * gRPC messages back onto the wire: a recorded message's bytes (its fields re-encoded, or its
 * raw bytes), the 5-byte length prefix, the status codes by name, and `grpc-message`'s
 * percent-encoding. Replay sends every message uncompressed (gRPC allows it per message).
 */
import type { OutgoingHttpHeaders } from 'node:http2';
import { StreamBody } from '../http2/exchange.js';
import type { GrpcMessageRecord } from './call.js';
import { type GrpcFraming, readGrpcFrames } from './messages.js';
import { encodeMessage } from './protobuf.js';

/** The status codes of the gRPC spec, by number. */
export const GRPC_STATUS_NAMES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
] as const;

export const GrpcStatus = {
  OK: 0,
  NOT_FOUND: 5,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
} as const;

/** `NOT_FOUND (5)`; unknown codes by number only. */
export function statusName(code: number | undefined): string {
  if (code === undefined) return 'no status';
  const name = GRPC_STATUS_NAMES[code];
  return name ? `${name} (${code})` : String(code);
}

/** The bytes of a recorded message: its fields encoded (exactly the original bytes), or its raw bytes. */
export function messageBytes(m: Pick<GrpcMessageRecord, 'fields' | 'raw'>): Buffer {
  if (m.fields) return encodeMessage(m.fields);
  return Buffer.from(m.raw ?? '', 'base64');
}

/** One length-prefixed, uncompressed gRPC message. */
export function frameMessage(payload: Buffer): Buffer {
  const prefix = Buffer.allocUnsafe(5);
  prefix[0] = 0;
  prefix.writeUInt32BE(payload.length, 1);
  return Buffer.concat([prefix, payload]);
}

/** A whole received body split into messages (decompressed when flagged; see readGrpcFrames). */
export function splitMessages(body: Buffer, encoding: string | undefined, maxMessage: number): GrpcFraming {
  const stream = new StreamBody(body.length);
  stream.add(body, 0, body.length);
  return readGrpcFrames(stream, encoding, maxMessage);
}

/** `grpc-message` is percent-encoded: anything outside printable ASCII, and `%` itself. */
export function encodeGrpcMessage(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    out +=
      byte >= 0x20 && byte <= 0x7e && byte !== 0x25
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Connection-specific headers, which HTTP/2 forbids (RFC 9113 8.2.2). */
export const CONNECTION_HEADERS = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
];

/** A header list as node:http2 takes it: repeated names as arrays; pseudo-headers and `dropped` left out. */
export function headerObject(
  list: readonly [string, string][],
  dropped: ReadonlySet<string>,
): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [rawName, value] of list) {
    const name = rawName.toLowerCase();
    if (name.startsWith(':') || dropped.has(name)) continue;
    const prev = out[name];
    if (prev === undefined) out[name] = value;
    else out[name] = Array.isArray(prev) ? [...prev, value] : [String(prev), value];
  }
  return out;
}
