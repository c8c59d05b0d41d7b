/**
 * `POST /v1/tap`: a sidecar's batch of tap frames (docs/contracts.md) decoded into pairs
 * (src/protocols/capture), gRPC fields named where the server offers reflection, then routed,
 * filtered, masked and stored like NDJSON pairs. Per sidecar a TapSession keeps batch numbers
 * (a retried batch is acknowledged, not decoded again) and HTTP/2 connection state; sessions
 * are bounded (least recently used forgotten).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { DEFAULT_MAX_BODY_BYTES } from '../model/traffic.js';
import { grpcRecord } from '../protocols/grpc/recorded-format.js';
import { TapFormatError } from '../protocols/capture/frames.js';
import { TapSession } from '../protocols/capture/session.js';
import { PairIds } from '../protocols/http1/pair.js';
import type { GrpcSchemas } from './grpc-schemas.js';
import { HttpError } from './http-error.js';
import { BatchIngest } from './ingest.js';
import type { ForwarderMetrics } from './metrics.js';
import type { Recordings } from './recordings.js';
import type { SidecarDrops } from './sidecar-drops.js';

/** Sidecars whose sessions are kept. */
const MAX_SESSIONS = 10_000;
/** HTTP/2 connections tracked per sidecar. */
const MAX_CONNECTIONS = 1024;

export interface TapContext {
  recordings: Recordings;
  metrics: ForwarderMetrics;
  sidecarDrops: SidecarDrops;
  schemas: GrpcSchemas;
  sessions: TapSessions;
  maxBatchBytes: number;
  log: Logger;
}

export class TapSessions {
  private readonly sessions = new Map<string, TapSession>();
  private readonly ids = new PairIds();

  get(sidecarId: string): TapSession {
    let s = this.sessions.get(sidecarId);
    if (s) {
      this.sessions.delete(sidecarId);
    } else {
      s = new TapSession(sidecarId, this.ids, { maxConnections: MAX_CONNECTIONS });
      if (this.sessions.size >= MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!);
    }
    this.sessions.set(sidecarId, s);
    return s;
  }
}

function header(req: IncomingMessage, name: string, pattern: RegExp, what: string): string {
  const v = req.headers[name];
  if (typeof v !== 'string' || !pattern.test(v)) throw new HttpError(400, `header ${name}: expected ${what}`);
  return v;
}

async function readBody(req: IncomingMessage, ctx: TapContext): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    ctx.metrics.bytesReceived += chunk.length;
    if (size > ctx.maxBatchBytes) {
      ctx.metrics.batchesTooLarge++;
      throw new HttpError(413, `batch larger than --max-batch-bytes (${ctx.maxBatchBytes} bytes)`);
    }
    parts.push(chunk);
  }
  return parts.length === 1 ? parts[0] : Buffer.concat(parts, size);
}

export async function ingestTap(req: IncomingMessage, res: ServerResponse, ctx: TapContext): Promise<void> {
  ctx.metrics.batches++;
  const sidecarId = header(
    req,
    'x-reprise-sidecar',
    /^[\w.-]{1,128}$/,
    'the sidecar id (letters, digits, ".", "-")',
  );
  const seq = Number(header(req, 'x-reprise-seq', /^\d{1,15}$/, 'the batch number (a positive integer)'));
  const service = header(req, 'x-reprise-service', /^.{1,256}$/, 'the service name');
  const maxBody =
    Number(req.headers['x-reprise-max-body'] ?? DEFAULT_MAX_BODY_BYTES) || DEFAULT_MAX_BODY_BYTES;
  if (Number(req.headers['content-length']) > ctx.maxBatchBytes) {
    ctx.metrics.batchesTooLarge++;
    res.setHeader('connection', 'close');
    throw new HttpError(413, `batch larger than --max-batch-bytes (${ctx.maxBatchBytes} bytes)`);
  }
  const dropped = Number(req.headers['x-reprise-sidecar-dropped']);
  if (Number.isSafeInteger(dropped) && dropped >= 0) ctx.sidecarDrops.report(service, sidecarId, dropped);
  const body = await readBody(req, ctx);
  const session = ctx.sessions.get(sidecarId);
  let decoded;
  try {
    decoded = session.stream(seq, body, { service, maxBody });
  } catch (err) {
    if (err instanceof TapFormatError) throw new HttpError(400, `tap batch ${seq}: ${err.message}`);
    throw err;
  }
  const m = ctx.metrics.tap;
  if (decoded.duplicate) {
    m.duplicateBatches++;
    return send(res, { accepted: 0, filtered: 0, rejected: 0, unrouted: 0, duplicate: true });
  }
  const batch = new BatchIngest({
    recordings: ctx.recordings,
    metrics: ctx.metrics,
    service,
    onAppendError: (err, rec) => ctx.log.error({ err, snapshotId: rec.id }, 'store refused a pair'),
  });
  // Each pair is stored before the next is built: a batch's pairs never all live at once.
  // Exchanges that could not be read are refused in their place in the batch.
  let refused = 0;
  const refuseRead = () => {
    while (refused < decoded.rejected.length) batch.refuse(decoded.rejected[refused++]);
  };
  for (const { pair, grpc } of decoded.pairs) {
    refuseRead();
    if (grpc) pair.grpc = grpcRecord(await ctx.schemas.name(grpc.call, grpc.origin));
    const pending = batch.add(pair);
    if (pending) await pending;
  }
  refuseRead();
  m.lostStreams += decoded.lostStreams;
  m.unknownFrames += decoded.unknownFrames;
  // Streams whose state was lost count as this forwarder's drops for the service's recordings.
  if (decoded.lostStreams)
    for (const rec of ctx.recordings.route(service)) rec.forwarderDropped += decoded.lostStreams;
  send(res, batch.result);
}

function send(res: ServerResponse, body: object): void {
  const text = JSON.stringify(body);
  res
    .writeHead(202, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
    .end(text);
}
