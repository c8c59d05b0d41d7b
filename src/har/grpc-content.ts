/**
 * A gRPC pair's bodies for HAR: a recorded gRPC pair keeps no bodies, its messages are decoded
 * fields. HAR shows each side as the decoded JSON (`text`, what viewers display) and the
 * length-prefixed body those messages encode back to in base64 (`_base64`): messages stored
 * decompressed are framed uncompressed, undecoded ones (`raw`) as recorded.
 */
import type { GrpcMessage, GrpcRecord } from '../model/h2.js';
import { encodeMessage } from '../protocols/grpc/protobuf.js';

export interface GrpcSide {
  mimeType: string;
  /** `{"messages":[...]}` as recorded (fields, offsets), plus the status on the response side. */
  text: string;
  /** The length-prefixed gRPC body in base64. */
  base64: string;
  size: number;
}

function frame(m: GrpcMessage): Buffer {
  const payload = m.fields ? encodeMessage(m.fields) : Buffer.from(m.raw ?? '', 'base64');
  const prefix = Buffer.alloc(5);
  // Stored compressed only when the encoding could not be decoded: then the bytes are as sent.
  prefix[0] = m.raw !== undefined && m.encoding !== undefined ? 1 : 0;
  prefix.writeUInt32BE(payload.length, 1);
  return Buffer.concat([prefix, payload]);
}

export function grpcSide(grpc: GrpcRecord, side: 'request' | 'response', mimeType: string): GrpcSide {
  const messages = grpc[side];
  const body = Buffer.concat(messages.map(frame));
  const doc: Record<string, unknown> = { service: grpc.service, method: grpc.method, messages };
  if (side === 'response' && grpc.status !== undefined) {
    doc.status = grpc.status;
    if (grpc.message !== undefined) doc.message = grpc.message;
  }
  return { mimeType, text: JSON.stringify(doc), base64: body.toString('base64'), size: body.length };
}
