/**
 * Masking what HTTP/2 and gRPC pairs add (format 2): trailers as headers, header values the
 * client or server sent never-indexed (HPACK's mark for secrets) replaced whole, and every
 * decoded gRPC message: a field whose name (from reflection) is a key rule is replaced whole,
 * other strings go through the detectors, nested messages are walked. A message kept as `raw`
 * bytes (undecodable, cut or compressed with an unknown encoding) cannot be masked: reported.
 * Each function returns its input itself when nothing changed.
 */
import type { GrpcMessage, GrpcRecord, H2Facts, ProtoField } from '../model/h2.js';
import type { HeaderList } from '../model/traffic.js';
import type { TextMasker } from './text.js';

/** Token kind of never-indexed header values no key rule names. */
const NEVER_INDEXED_KIND = 'header';
/** Nesting walked at most (protobuf allows 100; deeper fields are left as they are). */
const MAX_DEPTH = 100;

/** Header values named in `neverIndexed` replaced by tokens, whatever the detectors think. */
export function maskNeverIndexed(
  headers: HeaderList,
  names: string[] | undefined,
  m: TextMasker,
): HeaderList {
  if (!names?.length) return headers;
  const secret = new Set(names.map((n) => n.toLowerCase()));
  let out: HeaderList | undefined;
  for (let i = 0; i < headers.length; i++) {
    const [name, value] = headers[i];
    const lower = name.toLowerCase();
    if (!secret.has(lower)) continue;
    const masked = m.token(m.keys.kindOf(lower) ?? NEVER_INDEXED_KIND, value);
    if (masked !== value) {
      out ??= headers.slice();
      out[i] = [name, masked];
    }
  }
  return out ?? headers;
}

function maskFields(fields: ProtoField[], m: TextMasker, depth: number): ProtoField[] {
  let out: ProtoField[] | undefined;
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i];
    const masked = maskField(f, m, depth);
    if (masked !== f) {
      out ??= fields.slice();
      out[i] = masked;
    }
  }
  return out ?? fields;
}

function maskField(f: ProtoField, m: TextMasker, depth: number): ProtoField {
  const kind = f.name === undefined ? undefined : m.keys.kindOf(f.name);
  if (f.t === 'message') {
    if (depth >= MAX_DEPTH) return f;
    const v = maskFields(f.v, m, depth + 1);
    return v === f.v ? f : { ...f, v };
  }
  if (f.t === 'string' || f.t === 'bytes') {
    // Bytes are base64: a key rule replaces them (with the token's bytes); detectors see text only.
    const v =
      kind !== undefined
        ? f.t === 'string'
          ? m.token(kind, f.v)
          : Buffer.from(m.token(kind, f.v)).toString('base64')
        : f.t === 'string'
          ? m.mask(f.v)
          : f.v;
    return v === f.v ? f : { ...f, v };
  }
  return f;
}

function maskMessages(msgs: GrpcMessage[], m: TextMasker, where: string, unscanned: string[]): GrpcMessage[] {
  let out: GrpcMessage[] | undefined;
  let raw = false;
  for (let i = 0; i < msgs.length; i++) {
    const msg = msgs[i];
    if (!msg.fields) {
      raw ||= msg.raw !== undefined && msg.raw.length > 0;
      continue;
    }
    const fields = maskFields(msg.fields, m, 0);
    if (fields !== msg.fields) {
      out ??= msgs.slice();
      out[i] = { ...msg, fields };
    }
  }
  if (raw) unscanned.push(where);
  return out ?? msgs;
}

/** The gRPC record with its messages and status message masked. */
export function maskGrpc(grpc: GrpcRecord, m: TextMasker, unscanned: string[]): GrpcRecord {
  const request = maskMessages(grpc.request, m, 'grpc.request', unscanned);
  const response = maskMessages(grpc.response, m, 'grpc.response', unscanned);
  const message = grpc.message === undefined ? undefined : m.mask(grpc.message);
  if (request === grpc.request && response === grpc.response && message === grpc.message) return grpc;
  return { ...grpc, request, response, ...(message !== undefined && { message }) };
}

/** Which header names of each side were never-indexed. */
export const neverIndexedOf = (h2: H2Facts | undefined, side: 'request' | 'response') =>
  h2?.neverIndexed?.[side];
