/**
 * The traffic model: one RRPair per request/response exchange, and the manifest of a
 * snapshot (an immutable recording). These schemas are the single definition of the
 * format on disk (`traffic.ndjson.gz`, `manifest.json`) and of `POST /v1/pairs` batches.
 * Bump FORMAT_VERSION on any change a reader of the previous version could not take.
 * Format 2 = format 1 plus optional fields for HTTP/2 and gRPC (h2.ts): writers write 2,
 * readers accept 1 and 2, and every format-1 pair is a format-2 pair.
 */
import { z } from 'zod';
import { GrpcRecord, H2Facts } from './h2.js';

export const FORMAT_VERSION = 2;
/** The manifest versions a reader accepts. */
export const ReadableFormatVersion = z.union([z.literal(1), z.literal(2)]);

/** Default cap on a recorded body; past it the body is cut and marked `truncated`. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

export const HeaderList = z.array(z.tuple([z.string(), z.string()]));
export type HeaderList = z.infer<typeof HeaderList>;

export const Body = z.object({
  /** `utf8` when the bytes are valid UTF-8 text, else `base64`. */
  encoding: z.enum(['utf8', 'base64']),
  /** The recorded bytes (possibly cut at the body limit), in `encoding`. */
  data: z.string(),
  /** Size in bytes of the body as it was sent on the wire (before any cut). */
  size: z.number().int().nonnegative(),
  /** True when `data` holds fewer bytes than `size` because of the body limit. */
  truncated: z.boolean(),
  /** Set when `data` was decoded from this content-encoding (gzip, deflate, br). */
  decodedFrom: z.enum(['gzip', 'deflate', 'br']).optional(),
});
export type Body = z.infer<typeof Body>;

export const HttpRequest = z.object({
  method: z.string().min(1),
  scheme: z.enum(['http', 'https']),
  host: z.string(),
  port: z.number().int().min(0).max(65535),
  /** Path without the query string, as sent (percent-encoding preserved). */
  path: z.string(),
  /** Decoded query parameters in their original order. */
  query: z.array(z.tuple([z.string(), z.string()])),
  headers: HeaderList,
  body: Body.optional(),
  /** HTTP/2 trailers (regular header fields after the body). */
  trailers: HeaderList.optional(),
});
export type HttpRequest = z.infer<typeof HttpRequest>;

export const HttpResponse = z.object({
  status: z.number().int().min(100).max(999),
  statusText: z.string().optional(),
  headers: HeaderList,
  body: Body.optional(),
  /** HTTP/2 trailers (gRPC's `grpc-status` and `grpc-message` are here). */
  trailers: HeaderList.optional(),
});
export type HttpResponse = z.infer<typeof HttpResponse>;

export const Direction = z.enum(['inbound', 'outbound']);
export type Direction = z.infer<typeof Direction>;

export const RRPair = z
  .object({
    id: z.string().min(1),
    direction: Direction,
    service: z.string(),
    /**
     * `h2`: one HTTP/2 stream. Its pseudo-headers are in the structured fields (method, scheme,
     * host, port, path, status); `headers` hold the regular fields in order.
     */
    protocol: z.enum(['http/1.1', 'h2']),
    /** ISO-8601 time the first byte of the request was seen. */
    startedAt: z.string(),
    /** From the first request byte to the last response byte. */
    durationMs: z.number().nonnegative(),
    request: HttpRequest,
    /** Absent when no response came (upstream refused, reset, timed out). */
    response: HttpResponse.optional(),
    /** Why there is no (complete) response. */
    error: z.object({ code: z.string(), message: z.string() }).optional(),
    tags: z.record(z.string(), z.string()).default({}),
    /** HTTP/2 stream facts (format 2). */
    h2: H2Facts.optional(),
    /** The gRPC call (format 2); its request and response carry no body. */
    grpc: GrpcRecord.optional(),
  })
  .refine((p) => (p.h2 === undefined && p.grpc === undefined) || p.protocol === 'h2', {
    message: '`h2` and `grpc` need protocol "h2"',
  });
export type RRPair = z.infer<typeof RRPair>;

/**
 * The tag DLP sets on a pair whose body it could not scan (binary: not text in an
 * ASCII-compatible charset): `request.body`, `response.body` or both, comma-separated. The
 * body is stored as recorded; the manifest counts these bodies (`counts.unscannedBodies`).
 */
export const UNSCANNED_TAG = 'dlpUnscanned';

export const EndpointCount = z.object({
  direction: Direction,
  method: z.string(),
  host: z.string(),
  path: z.string(),
  count: z.number().int().nonnegative(),
});
export type EndpointCount = z.infer<typeof EndpointCount>;

export const DropCounts = z.object({
  /** Pairs the sidecar dropped because its bounded buffer was full (capture fails open). */
  sidecar: z.number().int().nonnegative().default(0),
  /** Pairs the forwarder could not take (queue full, malformed). */
  forwarder: z.number().int().nonnegative().default(0),
  /** Pairs excluded on purpose by filters (health checks, telemetry, user rules). */
  filtered: z.number().int().nonnegative().default(0),
});
export type DropCounts = z.infer<typeof DropCounts>;

/** A traffic file's name in a snapshot: `traffic.ndjson.gz` or `traffic-<writer>.ndjson.gz`. */
export const TRAFFIC_PART = /^traffic(-[A-Za-z0-9_]+(?:[.-][A-Za-z0-9_]+)*)?\.ndjson\.gz$/;

/** Counts of pairs (and their NDJSON bytes) by direction. */
const PairCounts = z.object({
  pairs: z.number().int().nonnegative(),
  inbound: z.number().int().nonnegative(),
  outbound: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
});

/**
 * One writer (a forwarder replica) of a snapshot written by several: its parts, in its own
 * capture order, and what it stored. `lost`: it did not answer the seal, so what it had not yet
 * flushed is lost; the counts are the last it reported (a lower bound).
 */
export const SnapshotWriterPart = PairCounts.extend({
  writer: z.string(),
  state: z.enum(['flushed', 'lost']),
  parts: z.array(z.string().regex(TRAFFIC_PART, 'expected a file name traffic[-NAME].ndjson.gz')),
  lost: PairCounts.extend({ reason: z.string() }).optional(),
});
export type SnapshotWriterPart = z.infer<typeof SnapshotWriterPart>;

export const SnapshotManifest = z.object({
  formatVersion: ReadableFormatVersion,
  id: z.string(),
  service: z.string(),
  source: z.enum(['capture', 'har-import']),
  createdAt: z.string(),
  sealedAt: z.string(),
  /** Time of the first and last recorded request (empty snapshot: both equal createdAt). */
  window: z.object({ start: z.string(), end: z.string() }),
  counts: z.object({
    pairs: z.number().int().nonnegative(),
    inbound: z.number().int().nonnegative(),
    outbound: z.number().int().nonnegative(),
    /** Uncompressed NDJSON bytes written. */
    bytes: z.number().int().nonnegative(),
    truncatedBodies: z.number().int().nonnegative(),
    /** Bodies DLP could not scan and stored as recorded (see UNSCANNED_TAG); 0 in older snapshots. */
    unscannedBodies: z.number().int().nonnegative().default(0),
    dropped: DropCounts,
    /** Pairs lost with writers that did not answer the seal (see `writers`); absent: none. */
    lost: z.number().int().nonnegative().optional(),
  }),
  /** Pairs per endpoint, most frequent first; at most MAX_ENDPOINTS rows, the rest in `otherEndpoints`. */
  endpoints: z.array(EndpointCount),
  otherEndpoints: z.number().int().nonnegative(),
  /** The filter and DLP rules that were applied before storing, as data. */
  filters: z.unknown().optional(),
  dlp: z.unknown().optional(),
  /** Free-form provenance: capture workflow id, HAR creator, ... */
  meta: z.record(z.string(), z.string()).default({}),
  /**
   * The traffic files beside the manifest, merged in capture order when there are several (one
   * per writer: the S3 store names each writer's file); absent means the one `traffic.ndjson.gz`.
   */
  parts: z
    .array(z.string().regex(TRAFFIC_PART, 'expected a file name traffic[-NAME].ndjson.gz'))
    .min(1)
    .optional(),
  /** Several writers (forwarder replicas): each one's parts, read as one stream merged by time. */
  writers: z.array(SnapshotWriterPart).optional(),
});
export type SnapshotManifest = z.infer<typeof SnapshotManifest>;

export const MAX_ENDPOINTS = 1000;
