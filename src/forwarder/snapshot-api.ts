/**
 * Snapshots over HTTP for the pods of a replay (responder, generator), whichever store the
 * forwarder uses (its volume, or an S3 bucket): they read a snapshot from the forwarder and send
 * back what they observed, which lands in the replay results the orchestrator reads.
 *
 *   GET /snapshots                 every snapshot's manifest (JSON array; the inspector's list)
 *   GET /snapshots/:id/manifest    the manifest (JSON)
 *   GET /snapshots/:id/traffic     traffic.ndjson.gz, streamed as stored
 *   PUT /replays/:id/observed      the generator's observed.ndjson.gz (bounded)
 *   PUT /replays/:id/summary       the generator's summary (JSON, bounded)
 *   PUT /replays/:id/observed-N, summary-N   the same for replica N of a split load (load.replicas)
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { isSafeId } from '../base/ids.js';
import { childLog } from '../base/log.js';
import { FsReplayResults, type ReplayResultStore } from '../store/results.js';
import { SnapshotNotFoundError, type SnapshotStore } from '../store/types.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export interface SnapshotApiOptions {
  store: SnapshotStore;
  /** REPRISE_HOME: where replays' observed files and summaries are written, unless `results` says. */
  home: string;
  results?: ReplayResultStore;
  /** Default 2 GiB. */
  maxObservedBytes?: number;
}

const MAX_SUMMARY_BYTES = 4 * 1024 * 1024;
const DEFAULT_MAX_OBSERVED_BYTES = 2 * 1024 ** 3;
const ROUTE = /^\/(snapshots|replays)\/([^/]+)\/(manifest|traffic|observed|summary)(?:-(\d{1,3}))?$/;

class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Serves these routes and hands every other request to `next` (the forwarder's own API). */
export function withSnapshotApi(opts: SnapshotApiOptions, next: Handler): Handler {
  const log = childLog('snapshot-api');
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const m = ROUTE.exec(path);
    if (!m && !(path === '/snapshots' && req.method === 'GET')) return next(req, res);
    const replica = m?.[4] === undefined ? undefined : Number(m[4]) - 1;
    const served = m
      ? serve(opts, req, res, m[1], m[2], m[3], replica)
      : opts.store.list().then((l) => json(res, 200, l));
    served.catch((err: unknown) => {
      const status = err instanceof ApiError ? err.status : err instanceof SnapshotNotFoundError ? 404 : 500;
      if (status >= 500) log.error({ err, url: req.url }, 'snapshot api request failed');
      if (res.headersSent) return void res.destroy();
      if (!req.complete) res.setHeader('connection', 'close');
      json(res, status, { error: (err as Error).message });
    });
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res
    .writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
    .end(text);
}

async function serve(
  opts: SnapshotApiOptions,
  req: IncomingMessage,
  res: ServerResponse,
  kind: string,
  rawId: string,
  what: string,
  /** 0-based; from `observed-N` / `summary-N` (1-based). */
  replica: number | undefined,
): Promise<void> {
  let id: string;
  try {
    id = decodeURIComponent(rawId);
  } catch {
    throw new ApiError(400, 'the id in the path is not valid percent-encoding');
  }
  if (!isSafeId(id)) throw new ApiError(400, `"${id}" is not a valid id`);
  const method = kind === 'snapshots' ? 'GET' : 'PUT';
  const onSnapshot = what === 'manifest' || what === 'traffic';
  if (
    req.method !== method ||
    (kind === 'snapshots') !== onSnapshot ||
    (onSnapshot && replica !== undefined)
  ) {
    throw new ApiError(405, `${req.method} not allowed on ${req.url}; use ${method}`);
  }
  if (what === 'manifest') return json(res, 200, await opts.store.getManifest(id));
  if (what === 'traffic') return sendTraffic(opts.store, id, res);
  if (what === 'summary') {
    const body = await readBounded(req, MAX_SUMMARY_BYTES);
    try {
      JSON.parse(body.toString('utf8'));
    } catch (err) {
      throw new ApiError(400, `invalid JSON: ${(err as Error).message}`);
    }
    await results(opts).putSummary(id, body.toString('utf8'), replica);
    return json(res, 200, { bytes: body.length });
  }
  const bytes = await receiveObserved(
    req,
    results(opts),
    id,
    opts.maxObservedBytes ?? DEFAULT_MAX_OBSERVED_BYTES,
    replica,
  );
  json(res, 200, { bytes });
}

const results = (opts: SnapshotApiOptions) => opts.results ?? new FsReplayResults(opts.home);

/** The stored gzip file as is; a snapshot of several parts merged and re-encoded the same way. */
async function sendTraffic(store: SnapshotStore, id: string, res: ServerResponse): Promise<void> {
  await store.getManifest(id); // 404 before any byte is sent
  const raw = await store.rawTraffic?.(id);
  res.writeHead(200, { 'content-type': 'application/x-ndjson', 'x-content-encoding': 'gzip' });
  const source =
    raw ??
    Readable.from(
      (async function* () {
        for await (const pair of store.readPairs(id)) yield JSON.stringify(pair) + '\n';
      })(),
    ).pipe(createGzip());
  await pipeline(source, res);
}

async function readBounded(req: IncomingMessage, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) throw new ApiError(413, `body larger than ${max} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Streams the body into the replay's results, whole or not at all; past `max` bytes it is refused. */
async function receiveObserved(
  req: IncomingMessage,
  results: ReplayResultStore,
  id: string,
  max: number,
  replica: number | undefined,
): Promise<number> {
  const declared = Number(req.headers['content-length']);
  if (declared > max) throw new ApiError(413, `body larger than ${max} bytes`);
  let size = 0;
  let refused: ApiError | undefined;
  const limit = new Transform({
    transform(chunk: Buffer, _enc, done) {
      size += chunk.length;
      if (size > max) refused ??= new ApiError(413, `body larger than ${max} bytes`);
      done(refused ?? null, chunk);
    },
  });
  req.on('error', (err) => limit.destroy(err));
  try {
    await results.putObserved(id, req.pipe(limit), replica);
  } catch (err) {
    // The store may wrap the body's error in its own; the refusal is what the client must see.
    throw refused ?? err;
  }
  return size;
}

/** Puts these routes in front of the server's own request handler (one line in the forwarder). */
export function registerSnapshotApi(server: Server, opts: SnapshotApiOptions): void {
  const own = server.listeners('request') as Handler[];
  server.removeAllListeners('request');
  server.on(
    'request',
    withSnapshotApi(opts, (req, res) => own.forEach((h) => h(req, res))),
  );
}
