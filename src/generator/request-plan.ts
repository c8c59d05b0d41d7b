/**
 * The request list: every recorded inbound request that will be replayed, in recorded order,
 * turned into wire bytes once. Requests whose transforms depend on the send time keep a
 * renderer that only concatenates prepared pieces.
 */
import picomatch from 'picomatch';
import type { Transform } from '../config/replay.js';
import { bodyBytes } from '../model/body.js';
import type { HttpRequest, RRPair } from '../model/traffic.js';
import {
  compileTransforms,
  type DraftRequest,
  type RequestTransform,
  type SendContext,
} from './transforms/index.js';
import { isDynamic } from './transforms/draft.js';
import { renderText, type Text } from './transforms/text.js';
import { encodeQuery, encodeRequest, safePath } from './wire.js';
import { HOP_BY_HOP_HEADERS } from '../model/headers.js';

export interface PlannedRequest {
  readonly pairId: string;
  readonly method: string;
  /** Recorded time since the first replayed request (for replay at recorded timing). */
  readonly offsetMs: number;
  /** A HEAD response has headers only. */
  readonly noBody: boolean;
  /** The wire bytes; undefined when `render` builds them at send time. */
  readonly bytes: Buffer | undefined;
  readonly render: ((ctx: SendContext) => Buffer) | undefined;
  /** JSON members `"pairId":..,"request":{..}` that every observed line of this request starts with. */
  readonly observedHead: string;
}

export interface RequestPlan {
  readonly requests: readonly PlannedRequest[];
  /** First recorded request (any direction) to the end of the last exchange, epoch ms. */
  readonly window: { startMs: number; endMs: number };
  /** Recorded time from the first to the last replayed request. */
  readonly spanMs: number;
  /** Pairs read but not replayed: outbound, not matching `include`, CONNECT tunnels, no valid time. */
  readonly skipped: number;
  /** Replayed requests whose recorded body was cut at the body limit (sent as recorded). */
  readonly truncatedBodies: number;
}

export interface PlanOptions {
  target: URL;
  /** Globs on the recorded path; absent or empty = every inbound request. */
  include?: readonly string[];
  transforms?: readonly Transform[];
  env?: NodeJS.ProcessEnv;
  vars?: Record<string, string>;
  /** Stops reading the recording; the plan holds what was read. */
  signal?: AbortSignal;
}

/** Never replayed as recorded: hop-by-hop, or set by the generator for the target connection. */
const DROPPED_HEADERS = new Set([...HOP_BY_HOP_HEADERS, 'host', 'content-length', 'expect']);

interface Recorded {
  id: string;
  request: HttpRequest;
  startedAtMs: number;
}

export async function buildPlan(
  pairs: AsyncIterable<RRPair> | Iterable<RRPair>,
  opts: PlanOptions,
): Promise<RequestPlan> {
  const included = opts.include?.length ? picomatch([...opts.include], { dot: true }) : () => true;
  const recorded: Recorded[] = [];
  let startMs = Infinity;
  let endMs = -Infinity;
  let skipped = 0;
  for await (const pair of pairs) {
    if (opts.signal?.aborted) break;
    const at = Date.parse(pair.startedAt);
    if (Number.isFinite(at)) {
      startMs = Math.min(startMs, at);
      endMs = Math.max(endMs, at + pair.durationMs);
    }
    const replayable =
      pair.direction === 'inbound' &&
      Number.isFinite(at) &&
      pair.request.method.toUpperCase() !== 'CONNECT' &&
      included(pair.request.path);
    if (replayable) recorded.push({ id: pair.id, request: pair.request, startedAtMs: at });
    else skipped++;
  }
  // Stable: requests recorded in the same millisecond keep their capture order.
  recorded.sort((a, b) => a.startedAtMs - b.startedAtMs);
  if (!Number.isFinite(startMs)) startMs = endMs = Date.now();

  const window = { startMs, endMs };
  const transforms = compileTransforms(opts.transforms ?? [], {
    window,
    env: opts.env ?? process.env,
    vars: opts.vars ?? {},
  });
  const first = recorded[0]?.startedAtMs ?? startMs;
  const freeze = freezer(opts.target, window.startMs);
  const requests = recorded.map((r) =>
    freeze(draftOf(r, opts.target.host, transforms), r.startedAtMs - first),
  );
  return {
    requests,
    window,
    spanMs: recorded.length ? recorded[recorded.length - 1].startedAtMs - first : 0,
    skipped,
    truncatedBodies: recorded.filter((r) => r.request.body?.truncated).length,
  };
}

function draftOf(r: Recorded, host: string, transforms: readonly RequestTransform[]): DraftRequest {
  const req = r.request;
  const listed = new Set<string>();
  for (const [n, v] of req.headers) {
    if (n.toLowerCase() === 'connection') for (const t of v.split(',')) listed.add(t.trim().toLowerCase());
  }
  const draft: DraftRequest = {
    pairId: r.id,
    startedAtMs: r.startedAtMs,
    method: req.method.toUpperCase(),
    path: req.path,
    query: req.query.map(([k, v]) => [k, v]),
    headers: req.headers
      .filter(([n]) => {
        const lower = n.toLowerCase();
        // HTTP/2 pseudo-headers (:authority, :path) have HTTP/1.1 equivalents already.
        return !DROPPED_HEADERS.has(lower) && !listed.has(lower) && !n.startsWith(':');
      })
      .map(([n, v]) => [n, v]),
    host,
    body: req.body?.encoding === 'utf8' ? req.body.data : bodyBytes(req.body),
  };
  for (const t of transforms) t(draft);
  return draft;
}

/** Turns drafts into planned requests for one target; `baseMs` renders the recorded form of the URL. */
function freezer(target: URL, baseMs: number) {
  const prefix = target.pathname.replace(/\/+$/, '');
  const recordedCtx: SendContext = { nowMs: baseMs };
  const bodyOf = (body: Text | Buffer, ctx: SendContext) =>
    Buffer.isBuffer(body) ? body : Buffer.from(renderText(body, ctx), 'utf8');
  const targetOf = (d: DraftRequest, ctx: SendContext) =>
    prefix +
    safePath(renderText(d.path, ctx)) +
    encodeQuery(d.query.map(([k, v]) => [renderText(k, ctx), renderText(v, ctx)]));
  const encode = (d: DraftRequest, ctx: SendContext) =>
    encodeRequest({
      method: d.method,
      target: targetOf(d, ctx),
      host: d.host,
      headers: d.headers.map(([n, v]) => [n, renderText(v, ctx)]),
      body: bodyOf(d.body, ctx),
    });

  return (d: DraftRequest, offsetMs: number): PlannedRequest => {
    const dynamic = isDynamic(d);
    const url = target.origin + targetOf(d, recordedCtx);
    return {
      pairId: d.pairId,
      method: d.method,
      offsetMs,
      noBody: d.method === 'HEAD',
      bytes: dynamic ? undefined : encode(d, recordedCtx),
      render: dynamic ? (ctx) => encode(d, ctx) : undefined,
      observedHead: `"pairId":${JSON.stringify(d.pairId)},"request":${JSON.stringify({ method: d.method, url })}`,
    };
  };
}
