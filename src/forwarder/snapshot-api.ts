/**
 * Snapshots over HTTP for the pods of a replay (responder, generator), until an S3-compatible
 * store exists: they read a snapshot from the forwarder and send back what they observed, which
 * lands in the store the orchestrator shares with the forwarder.
 *
 *   GET /snapshots/:id/manifest    the manifest (JSON)
 *   GET /snapshots/:id/traffic     traffic.ndjson.gz, streamed as stored
 *   PUT /replays/:id/observed      the generator's observed.ndjson.gz (bounded)
 *   PUT /replays/:id/summary       the generator's summary (JSON, bounded)
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { isSafeId } from '../base/ids.js';
import { childLog } from '../base/log.js';
import { generatorSummaryFile, observedFile } from '../base/paths.js';
import { replaceAtomic, writeFileAtomic } from '../store/durable.js';
import { FsSnapshotStore } from '../store/fs-store.js';
import { TRAFFIC_FILE } from '../store/manifest.js';
import { SnapshotNotFoundError, type SnapshotStore } from '../store/types.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export interface SnapshotApiOptions {
  store: SnapshotStore;
  /** REPRISE_HOME: where replays' observed files and summaries are written. */
  home: string;
  /** Default 2 GiB. */
  maxObservedBytes?: number;
}

const MAX_SUMMARY_BYTES = 4 * 1024 * 1024;
const DEFAULT_MAX_OBSERVED_BYTES = 2 * 1024 ** 3;
const ROUTE = /^\/(snapshots|replays)\/([^/]+)\/(manifest|traffic|observed|summary)$/;

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
    const m = ROUTE.exec((req.url ?? '/').split('?')[0]);
    if (!m) return next(req, res);
    serve(opts, req, res, m[1], m[2], m[3]).catch((err: unknown) => {
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
): Promise<void> {
  let id: string;
  try {
    id = decodeURIComponent(rawId);
  } catch {
    throw new ApiError(400, 'the id in the path is not valid percent-encoding');
  }
  if (!isSafeId(id)) throw new ApiError(400, `"${id}" is not a valid id`);
  const method = kind === 'snapshots' ? 'GET' : 'PUT';
  if (req.method !== method || (kind === 'snapshots') !== (what === 'manifest' || what === 'traffic')) {
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
    const file = generatorSummaryFile(opts.home, id);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFileAtomic(file, body.toString('utf8'));
    return json(res, 200, { bytes: body.length });
  }
  const bytes = await receiveFile(
    req,
    observedFile(opts.home, id),
    opts.maxObservedBytes ?? DEFAULT_MAX_OBSERVED_BYTES,
  );
  json(res, 200, { bytes });
}

/** The stored gzip file as is; another store's pairs re-encoded the same way. */
async function sendTraffic(store: SnapshotStore, id: string, res: ServerResponse): Promise<void> {
  await store.getManifest(id); // 404 before any byte is sent
  res.writeHead(200, { 'content-type': 'application/x-ndjson', 'x-content-encoding': 'gzip' });
  const source =
    store instanceof FsSnapshotStore
      ? createReadStream(path.join(store.root, id, TRAFFIC_FILE))
      : Readable.from(
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

/** Streams the body into `file` atomically (temp, fsync, rename); past `max` bytes it is refused. */
async function receiveFile(req: IncomingMessage, file: string, max: number): Promise<number> {
  const declared = Number(req.headers['content-length']);
  if (declared > max) throw new ApiError(413, `body larger than ${max} bytes`);
  await mkdir(path.dirname(file), { recursive: true });
  let size = 0;
  const limit = new Transform({
    transform(chunk: Buffer, _enc, done) {
      size += chunk.length;
      done(size > max ? new ApiError(413, `body larger than ${max} bytes`) : null, chunk);
    },
  });
  await replaceAtomic(file, (tmp) => pipeline(req, limit, createWriteStream(tmp, { flags: 'wx' })));
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
