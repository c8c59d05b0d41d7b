/** The forwarder's HTTP API (docs/contracts.md): routes, bodies, JSON errors. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { z } from 'zod';
import { DlpRules } from '../dlp/index.js';
import { FilterRules } from '../filters/index.js';
import { isSafeId } from '../base/ids.js';
import { describeZodIssues } from '../base/issues.js';
import { HttpError } from './http-error.js';
import { BatchIngest } from './ingest.js';
import type { ForwarderMetrics } from './metrics.js';
import { BatchTooLargeError, ndjsonLines } from './ndjson.js';
import type { IngestLanes } from './lanes.js';
import { addCounts, type PolicyCache } from './policy.js';
import type { Recordings } from './recordings.js';
import type { SidecarDrops } from './sidecar-drops.js';
import { ingestTap, type TapContext } from './tap.js';

export const OpenRecordingBody = z.strictObject({
  snapshotId: z.string().refine(isSafeId, 'expected letters, digits, ".", "_", "-" (at most 128)'),
  service: z.string().min(1),
  filters: FilterRules.optional(),
  /** `false` records this one without masking. */
  dlp: z.union([DlpRules, z.literal(false)]).optional(),
  meta: z.record(z.string(), z.string()).optional(),
  /** Written by several forwarders (S3 store): flush each, then seal over all (docs/s3-store.md). */
  shared: z.boolean().optional(),
});

/** Control requests are small; only /v1/pairs and /v1/tap carry batches. */
const MAX_CONTROL_BODY = 1024 * 1024;

export interface ApiContext {
  recordings: Recordings;
  metrics: ForwarderMetrics;
  policies: PolicyCache;
  lanes: IngestLanes;
  sidecarDrops: SidecarDrops;
  maxBatchBytes: number;
  log: Logger;
  tap: TapContext;
}

function send(res: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  const text = JSON.stringify(body);
  res
    .writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
    .end(text);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_CONTROL_BODY)
      throw new HttpError(413, `request body larger than ${MAX_CONTROL_BODY} bytes`);
    chunks.push(chunk);
  }
  if (size === 0) throw new HttpError(400, 'expected a JSON body');
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (err) {
    throw new HttpError(400, `invalid JSON: ${(err as Error).message}`);
  }
}

function requireMethod(req: IncomingMessage, ...allowed: string[]): void {
  if (!allowed.includes(req.method ?? '')) {
    throw new HttpError(405, `${req.method} not allowed on ${req.url}; use ${allowed.join(' or ')}`);
  }
}

async function openRecording(req: IncomingMessage, res: ServerResponse, ctx: ApiContext): Promise<void> {
  const parsed = OpenRecordingBody.safeParse(await readJson(req));
  if (!parsed.success) throw new HttpError(400, describeZodIssues(parsed.error.issues));
  const { recording, created } = await ctx.recordings.openRecording(parsed.data);
  if (created) ctx.log.info({ snapshotId: recording.id, service: recording.service }, 'recording opened');
  send(res, created ? 201 : 200, recording.status());
}

async function ingest(req: IncomingMessage, res: ServerResponse, ctx: ApiContext): Promise<void> {
  ctx.metrics.batches++;
  const declared = Number(req.headers['content-length']);
  if (declared > ctx.maxBatchBytes) return tooLarge(res, ctx, new BatchTooLargeError(ctx.maxBatchBytes));
  const service = req.headers['x-reprise-service'];
  const sidecar = typeof service === 'string' && service ? service : undefined;
  const dropped = Number(req.headers['x-reprise-sidecar-dropped']);
  if (sidecar && Number.isSafeInteger(dropped) && dropped >= 0) {
    ctx.sidecarDrops.report(sidecar, req.socket.remoteAddress ?? '', dropped);
  }
  const batch = new BatchIngest({
    recordings: ctx.recordings,
    metrics: ctx.metrics,
    service: sidecar,
    onAppendError: (err, rec) => ctx.log.error({ err, snapshotId: rec.id }, 'store refused a pair'),
  });
  const counted = countBytes(req as AsyncIterable<Buffer>, ctx.metrics);
  try {
    for await (const lines of ndjsonLines(counted, ctx.maxBatchBytes)) await batch.lines(lines);
  } catch (err) {
    if (err instanceof BatchTooLargeError) return tooLarge(res, ctx, err, batch.result);
    throw err;
  }
  send(res, 202, batch.result);
}

async function* countBytes(source: AsyncIterable<Buffer>, metrics: ForwarderMetrics): AsyncGenerator<Buffer> {
  for await (const chunk of source) {
    metrics.bytesReceived += chunk.length;
    yield chunk;
  }
}

/** 413, and the connection closes: the rest of the body is never read. */
function tooLarge(res: ServerResponse, ctx: ApiContext, err: BatchTooLargeError, partial?: object): void {
  ctx.metrics.batchesTooLarge++;
  res.setHeader('connection', 'close');
  send(res, 413, { error: err.message, maxBatchBytes: err.maxBytes, ...partial });
}

const RECORDING_PATH = /^\/v1\/recordings\/([^/]+)(\/seal|\/flush)?$/;

async function route(req: IncomingMessage, res: ServerResponse, ctx: ApiContext): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (path === '/healthz') {
    requireMethod(req, 'GET', 'HEAD');
    return send(res, 200, { status: 'ok' });
  }
  if (path === '/metrics') {
    requireMethod(req, 'GET');
    const masked = addCounts(ctx.policies.maskedTotals(), ctx.lanes.maskedTotals());
    const text = ctx.metrics.render({
      recordingsOpen: ctx.recordings.openCount,
      sidecarDropped: ctx.sidecarDrops.total(),
      masked,
      unscanned: ctx.policies.unscannedTotal() + ctx.lanes.unscannedTotal(),
      laneBusy: ctx.lanes.busyRefusals,
    });
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(text);
    return;
  }
  if (path === '/v1/pairs') {
    requireMethod(req, 'POST');
    return ingest(req, res, ctx);
  }
  if (path === '/v1/tap') {
    requireMethod(req, 'POST');
    return ingestTap(req, res, ctx.tap);
  }
  if (path === '/v1/recordings') {
    requireMethod(req, 'POST');
    return openRecording(req, res, ctx);
  }
  const m = RECORDING_PATH.exec(path);
  if (m) {
    let id: string;
    try {
      id = decodeURIComponent(m[1]);
    } catch {
      throw new HttpError(400, 'snapshotId in the path is not valid percent-encoding');
    }
    if (!isSafeId(id)) throw new HttpError(400, `snapshotId "${id}" is not a valid id`);
    if (m[2]) {
      requireMethod(req, 'POST');
      if (m[2] === '/flush') return send(res, 200, await ctx.recordings.flush(id));
      return send(res, 200, await ctx.recordings.seal(id));
    }
    requireMethod(req, 'GET', 'DELETE');
    if (req.method === 'GET') return send(res, 200, await ctx.recordings.status(id));
    await ctx.recordings.abort(id);
    return send(res, 204);
  }
  throw new HttpError(404, `no route ${req.method} ${path}`);
}

export function createHandler(ctx: ApiContext): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    route(req, res, ctx).catch((err: unknown) => {
      const status = err instanceof HttpError ? err.status : 500;
      // 503 is backpressure (a full ingest lane), counted in /metrics; the sender retries.
      if (status >= 500 && status !== 503)
        ctx.log.error({ err, url: req.url, method: req.method }, 'request failed');
      if (res.headersSent) {
        res.destroy();
        return;
      }
      // Unread body bytes must not be parsed as the next request.
      if (!req.complete) res.setHeader('connection', 'close');
      send(res, status, { error: (err as Error).message || String(err) });
    });
  };
}
