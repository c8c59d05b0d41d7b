/**
 * What a format-2 pair adds for HTTP/2 and gRPC (docs/proposals/h2-grpc-format.md, accepted):
 * `h2` (stream facts) and `grpc` (the call, every message decoded into protobuf fields keyed by
 * number). A gRPC pair carries no bodies: its messages' fields encode back to the exact bytes.
 */
import { z } from 'zod';

/** An unsigned 64-bit value: a number up to 2^53 - 1, else its decimal string. */
export type ProtoInt = number | string;

interface FieldBase {
  /** Field number. */
  n: number;
  /** Field name, when a schema (gRPC reflection) is known. */
  name?: string;
}

/** One protobuf field as it was on the wire, in wire order (repeated fields repeat). */
export type ProtoField =
  | (FieldBase & { t: 'varint' | 'fixed64'; v: ProtoInt })
  | (FieldBase & { t: 'fixed32'; v: number })
  | (FieldBase & { t: 'message'; v: ProtoField[] })
  | (FieldBase & { t: 'string'; v: string })
  /** Bytes in base64. */
  | (FieldBase & { t: 'bytes'; v: string })
  /** A packed repeated varint field. */
  | (FieldBase & { t: 'packed'; v: ProtoInt[] });

const Int = z.number().int().nonnegative();
const ProtoIntSchema = z.union([Int, z.string().regex(/^\d{1,20}$/)]);
const named = { n: z.number().int().min(1).max(0x1fffffff), name: z.string().optional() };

export const ProtoFieldSchema: z.ZodType<ProtoField> = z.lazy(() =>
  z.discriminatedUnion('t', [
    z.object({ ...named, t: z.enum(['varint', 'fixed64']), v: ProtoIntSchema }),
    z.object({ ...named, t: z.literal('fixed32'), v: Int.max(0xffffffff) }),
    z.object({ ...named, t: z.literal('message'), v: z.array(ProtoFieldSchema) }),
    z.object({ ...named, t: z.literal('string'), v: z.string() }),
    z.object({ ...named, t: z.literal('bytes'), v: z.string().base64() }),
    z.object({ ...named, t: z.literal('packed'), v: z.array(ProtoIntSchema) }),
  ]),
) as z.ZodType<ProtoField>;

export const GrpcMessage = z
  .object({
    /** Milliseconds from the start of the call to the arrival of the message's last byte. */
    offsetMs: z.number().nonnegative(),
    /** Bytes on the wire after the 5-byte prefix (compressed size when compressed). */
    size: Int,
    /** Sent compressed (stored decompressed; replay may send it uncompressed). */
    compressed: z.boolean().optional(),
    /** Compressed with an encoding not decoded (not gzip/deflate): `raw` holds the compressed bytes. */
    encoding: z.string().optional(),
    /** The body was cut inside this message: `raw` holds its first bytes. */
    truncated: z.boolean().optional(),
    fields: z.array(ProtoFieldSchema).optional(),
    /** Base64 of the message bytes when they could not be decoded into fields. */
    raw: z.string().base64().optional(),
    error: z.string().optional(),
  })
  .refine((m) => (m.fields === undefined) !== (m.raw === undefined), {
    message: 'a gRPC message has either `fields` or `raw`',
  });
export type GrpcMessage = z.infer<typeof GrpcMessage>;

export const GrpcRecord = z.object({
  /** `package.Service` and `Method` from `:path`. */
  service: z.string(),
  method: z.string(),
  requestEncoding: z.string().optional(),
  responseEncoding: z.string().optional(),
  request: z.array(GrpcMessage),
  response: z.array(GrpcMessage),
  /** A body was cut (byte cap or a gap): messages past the cut are missing. */
  requestTruncated: z.boolean().optional(),
  responseTruncated: z.boolean().optional(),
  /** Messages past the per-call message cap: counted, not kept (the first ones are). */
  requestOmitted: Int.optional(),
  responseOmitted: Int.optional(),
  /** `grpc-status` and the percent-decoded `grpc-message`; absent when the call did not end. */
  status: Int.optional(),
  message: z.string().optional(),
  /** The server answered with one HEADERS frame carrying the status (no messages, no trailers). */
  trailersOnly: z.boolean().optional(),
  /** Where field names came from. */
  schema: z.enum(['none', 'reflection']).default('none'),
});
export type GrpcRecord = z.infer<typeof GrpcRecord>;

/** Header lists, redefined here to keep this file below traffic.ts (which imports it). */
const Headers = z.array(z.tuple([z.string(), z.string()]));
const Outcome = z.object({ by: z.enum(['client', 'server']), code: Int, name: z.string() });

export const H2Facts = z.object({
  streamId: Int,
  /** Groups the streams of one connection (they shared HPACK state and ordering). */
  connectionId: z.string().optional(),
  /** How HTTP/2 was reached: prior knowledge, `Upgrade: h2c`, or ALPN inside TLS. */
  via: z.enum(['prior-knowledge', 'upgrade', 'alpn']).optional(),
  pushedBy: Int.optional(),
  /** 1xx response heads before the final one. */
  informational: z.array(Headers).optional(),
  /** Header names sent never-indexed (HPACK): DLP masks their values. */
  neverIndexed: z
    .object({ request: z.array(z.string()), response: z.array(z.string()) })
    .partial()
    .optional(),
  reset: Outcome.optional(),
  goaway: Outcome.extend({ lastStreamId: Int }).optional(),
  /** From the request's first byte: its end, and the response's first byte (ms). */
  requestEndMs: z.number().nonnegative().optional(),
  responseStartMs: z.number().nonnegative().optional(),
});
export type H2Facts = z.infer<typeof H2Facts>;
