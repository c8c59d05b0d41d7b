/**
 * `POST /v1/tap`: a sidecar's batch of tap frames (docs/contracts.md), routed to the open
 * recordings of its service, then decoded into pairs (src/protocols/capture), gRPC fields named,
 * filtered, masked and encoded on an ingest lane (lanes.ts), and stored and counted here like
 * NDJSON pairs. Per sidecar a TapSession on its lane keeps batch numbers (a retried batch is
 * acknowledged, not decoded again) and HTTP/2 connection state.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { DEFAULT_MAX_BODY_BYTES } from '../model/traffic.js';
import { HttpError } from './http-error.js';
import { BatchIngest } from './ingest.js';
import type { IngestLanes } from './lanes.js';
import type { ForwarderMetrics } from './metrics.js';
import type { Recordings } from './recordings.js';
import type { SidecarDrops } from './sidecar-drops.js';

export interface TapContext {
  recordings: Recordings;
  metrics: ForwarderMetrics;
  sidecarDrops: SidecarDrops;
  lanes: IngestLanes;
  maxBatchBytes: number;
  log: Logger;
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
  // Routed now: a recording sealed while the batch is decoded still gets it (held until stored).
  const targets = ctx.recordings.route(service);
  const policies = [...new Set(targets.map((t) => t.policy))];
  const releases = targets.map((t) => t.hold());
  try {
    const lane = await ctx.lanes.run({ sidecarId, seq, service, maxBody, body }, policies);
    if (lane.kind === 'format-error') throw new HttpError(400, `tap batch ${seq}: ${lane.message}`);
    const m = ctx.metrics.tap;
    if (lane.kind === 'duplicate') {
      m.duplicateBatches++;
      return send(res, { accepted: 0, filtered: 0, rejected: 0, unrouted: 0, duplicate: true });
    }
    const batch = new BatchIngest({
      recordings: ctx.recordings,
      metrics: ctx.metrics,
      service,
      onAppendError: (err, rec) =>
        ctx.log.error({ err, snapshotId: rec.id }, 'store refused a batch of pairs'),
    });
    await batch.applyLane(
      lane,
      targets,
      targets.map((t) => policies.indexOf(t.policy)),
    );
    m.lostStreams += lane.lostStreams;
    m.unknownFrames += lane.unknownFrames;
    // Streams whose state was lost count as this forwarder's drops for the service's recordings.
    if (lane.lostStreams)
      for (const rec of ctx.recordings.route(service)) rec.forwarderDropped += lane.lostStreams;
    send(res, batch.result);
  } finally {
    for (const release of releases) release();
  }
}

function send(res: ServerResponse, body: object): void {
  const text = JSON.stringify(body);
  res
    .writeHead(202, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
    .end(text);
}
