/**
 * The request list: every recorded inbound request that will be replayed, in recorded order,
 * turned into wire bytes. The recording is read as a stream: a scan first (time bounds, counts,
 * time order), then each pass planned as it is sent, unless one pass is small enough to hold
 * (then it is planned once, as before). Requests whose transforms depend on the send time keep a
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

/**
 * The recorded requests of one pass are held in memory (planned once, reused for every pass)
 * up to about this many bytes; a bigger recording is read from the snapshot again for each
 * pass, so memory does not grow with the recording.
 */
export const HELD_PLAN_BYTES = 16 * 1024 * 1024;

export interface Recorded {
  id: string;
  request: HttpRequest;
  startedAtMs: number;
}

/** Opens the recording from its start; called once per read (the scan, then once per streamed pass). */
export type PairSource = () => AsyncIterable<RRPair> | Iterable<RRPair>;

/** What one streaming read of the recording learns before anything is sent. */
export interface RecordingScan {
  readonly window: { startMs: number; endMs: number };
  readonly spanMs: number;
  /** Replayed requests in one pass. */
  readonly count: number;
  readonly skipped: number;
  readonly truncatedBodies: number;
  /** Recorded time of the first replayed request. */
  readonly firstMs: number;
  /**
   * Time-order rank of each replayed request, by its position in the recording; absent when the
   * recording is already in time order (the usual case: a streamed pass then needs no buffer).
   */
  readonly ranks: Uint32Array | undefined;
  /** Every replayed request in time order, when one pass fits in HELD_PLAN_BYTES. */
  readonly held: Recorded[] | undefined;
}

type Replayable = (pair: RRPair, at: number) => boolean;

/** What a pass replays: inbound, timed, not a CONNECT tunnel, matching `include`. */
export function replayableFilter(include: readonly string[] | undefined): Replayable {
  const included = include?.length ? picomatch([...include], { dot: true }) : () => true;
  return (pair, at) =>
    pair.direction === 'inbound' &&
    Number.isFinite(at) &&
    pair.request.method.toUpperCase() !== 'CONNECT' &&
    included(pair.request.path);
}

/** About what a parsed recorded request costs on the heap: objects, arrays and their strings. */
function heldBytes(req: HttpRequest): number {
  let n = 512 + 2 * (req.path.length + (req.body?.data.length ?? 0));
  for (const [k, v] of req.headers) n += 96 + 2 * (k.length + v.length);
  for (const [k, v] of req.query) n += 96 + 2 * (k.length + v.length);
  return n;
}

/** A Float64Array that grows by doubling: 8 bytes per replayed request, not an object each. */
class Times {
  values = new Float64Array(1024);
  length = 0;
  push(x: number): void {
    if (this.length === this.values.length) {
      const bigger = new Float64Array(this.values.length * 2);
      bigger.set(this.values);
      this.values = bigger;
    }
    this.values[this.length++] = x;
  }
}

/** Reads the recording once, streaming: time bounds, counts, the time order, and the pass itself if it is small. */
export async function scanRecording(
  open: PairSource,
  opts: { include?: readonly string[]; signal?: AbortSignal; heldBytes?: number },
): Promise<RecordingScan> {
  const replayable = replayableFilter(opts.include);
  const budget = opts.heldBytes ?? HELD_PLAN_BYTES;
  const times = new Times();
  let held: Recorded[] | undefined = [];
  let heldSize = 0;
  let inOrder = true;
  let startMs = Infinity;
  let endMs = -Infinity;
  let skipped = 0;
  let truncatedBodies = 0;
  for await (const pair of open()) {
    if (opts.signal?.aborted) break;
    const at = Date.parse(pair.startedAt);
    if (Number.isFinite(at)) {
      startMs = Math.min(startMs, at);
      endMs = Math.max(endMs, at + pair.durationMs);
    }
    if (!replayable(pair, at)) {
      skipped++;
      continue;
    }
    if (times.length && at < times.values[times.length - 1]) inOrder = false;
    times.push(at);
    if (pair.request.body?.truncated) truncatedBodies++;
    if (held) {
      heldSize += heldBytes(pair.request);
      if (heldSize > budget) held = undefined;
      else held.push({ id: pair.id, request: pair.request, startedAtMs: at });
    }
  }
  if (!Number.isFinite(startMs)) startMs = endMs = Date.now();
  const n = times.length;
  let ranks: Uint32Array | undefined;
  let firstMs = n ? times.values[0] : startMs;
  let lastMs = n ? times.values[n - 1] : startMs;
  if (!inOrder) {
    // Stable: requests recorded in the same millisecond keep their capture order.
    const t = times.values;
    const order = new Uint32Array(n).map((_, i) => i);
    order.sort((a, b) => t[a] - t[b] || a - b);
    ranks = new Uint32Array(n);
    for (let k = 0; k < n; k++) ranks[order[k]] = k;
    firstMs = t[order[0]];
    lastMs = t[order[n - 1]];
    held?.sort((a, b) => a.startedAtMs - b.startedAtMs);
  }
  return {
    window: { startMs, endMs },
    spanMs: lastMs - firstMs,
    count: n,
    skipped,
    truncatedBodies,
    firstMs,
    ranks,
    held,
  };
}

/** Turns recorded requests into planned ones (transforms compiled once, for the scanned window). */
export function requestPlanner(
  scan: RecordingScan,
  opts: PlanOptions,
): (r: { id: string; request: HttpRequest; startedAtMs: number }) => PlannedRequest {
  const transforms = compileTransforms(opts.transforms ?? [], {
    window: scan.window,
    env: opts.env ?? process.env,
    vars: opts.vars ?? {},
  });
  const freeze = freezer(opts.target, scan.window.startMs);
  const firstMs = scan.firstMs;
  const host = opts.target.host; // a URL getter: built anew on every read
  return (r) => freeze(draftOf(r, host, transforms), r.startedAtMs - firstMs);
}

/**
 * One pass of the recording, streamed, in time order. Out-of-order requests wait in a buffer
 * until their turn, so memory is bounded by how far the recording is out of order (a capture
 * writes pairs as they complete: a few in-flight requests at most).
 */
export async function* streamPass(
  open: PairSource,
  scan: RecordingScan,
  plan: (r: Recorded) => PlannedRequest,
  opts: { include?: readonly string[] },
): AsyncGenerator<PlannedRequest> {
  const replayable = replayableFilter(opts.include);
  const waiting = new Map<number, PlannedRequest>();
  let position = 0;
  let next = 0;
  for await (const pair of open()) {
    const at = Date.parse(pair.startedAt);
    if (!replayable(pair, at)) continue;
    if (position >= scan.count) break; // the recording grew since the scan: keep to what was planned
    const planned = plan({ id: pair.id, request: pair.request, startedAtMs: at });
    const rank = scan.ranks ? scan.ranks[position] : position;
    position++;
    if (rank !== next) {
      waiting.set(rank, planned);
      continue;
    }
    yield planned;
    next++;
    for (let w = waiting.get(next); w !== undefined; w = waiting.get(next)) {
      waiting.delete(next);
      yield w;
      next++;
    }
  }
}

/** The whole plan in memory (tests and small tools): the scan, then one pass collected. */
export async function buildPlan(
  pairs: AsyncIterable<RRPair> | Iterable<RRPair>,
  opts: PlanOptions,
): Promise<RequestPlan> {
  const list = Array.isArray(pairs) ? (pairs as RRPair[]) : await collect(pairs, opts.signal);
  const scan = await scanRecording(() => list, {
    include: opts.include,
    signal: opts.signal,
    heldBytes: Infinity,
  });
  const plan = requestPlanner(scan, opts);
  return {
    requests: scan.held!.map(plan),
    window: scan.window,
    spanMs: scan.spanMs,
    skipped: scan.skipped,
    truncatedBodies: scan.truncatedBodies,
  };
}

async function collect(
  pairs: AsyncIterable<RRPair> | Iterable<RRPair>,
  signal?: AbortSignal,
): Promise<RRPair[]> {
  const out: RRPair[] = [];
  for await (const p of pairs) {
    if (signal?.aborted) break;
    out.push(p);
  }
  return out;
}

/** A recorded request as a draft the transforms edit (also the HTTP/2 plan's, h2/plain-plan.ts). */
export function draftOf(r: Recorded, host: string, transforms: readonly RequestTransform[]): DraftRequest {
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
  const origin = target.origin; // a getter that builds its string each time
  const recordedCtx: SendContext = { nowMs: baseMs };
  const bodyOf = (body: Text | Buffer, ctx: SendContext) =>
    Buffer.isBuffer(body) ? body : Buffer.from(renderText(body, ctx), 'utf8');
  const targetOf = (d: DraftRequest, ctx: SendContext) =>
    prefix +
    safePath(renderText(d.path, ctx)) +
    encodeQuery(d.query.map(([k, v]) => [renderText(k, ctx), renderText(v, ctx)]));
  const encode = (d: DraftRequest, ctx: SendContext, target = targetOf(d, ctx)) =>
    encodeRequest({
      method: d.method,
      target,
      host: d.host,
      headers: d.headers.map(([n, v]) => [n, renderText(v, ctx)]),
      body: bodyOf(d.body, ctx),
    });

  return (d: DraftRequest, offsetMs: number): PlannedRequest => {
    const dynamic = isDynamic(d);
    const recordedTarget = targetOf(d, recordedCtx);
    const url = origin + recordedTarget;
    return {
      pairId: d.pairId,
      method: d.method,
      offsetMs,
      noBody: d.method === 'HEAD',
      bytes: dynamic ? undefined : encode(d, recordedCtx, recordedTarget),
      render: dynamic ? (ctx) => encode(d, ctx) : undefined,
      observedHead: `"pairId":${JSON.stringify(d.pairId)},"request":${JSON.stringify({ method: d.method, url })}`,
    };
  };
}
