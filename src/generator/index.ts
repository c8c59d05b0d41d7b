/**
 * runGenerator: replays a snapshot's recorded inbound requests against a target and streams
 * what came back to an observed file. The recording is scanned, then planned once when one pass
 * is small or streamed pass by pass when it is not (request-plan), a shared cursor hands each
 * connection its next request (cursor), the schedule says when it is due
 * (schedule), connections send and parse (connection), and every completion becomes one
 * observed line (observed-writer) and a sample in the statistics (stats).
 */
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import { LoadConfig, Transform } from '../config/replay.js';
import { parseDuration } from '../base/duration.js';
import { childLog } from '../base/log.js';
import { DEFAULT_MAX_BODY_BYTES, type RRPair } from '../model/traffic.js';
import type { SnapshotStore } from '../store/types.js';
import type { ConnectionTarget } from './connection.js';
import { Cursor } from './cursor.js';
import { GeneratorConfigError } from './errors.js';
import { firstReplayed, Http2Watch, runH2Generator } from './h2/index.js';
import { ObservedWriter } from './observed-writer.js';
import { requestPlanner, scanRecording, streamPass, type PairSource } from './request-plan.js';
import { Runner } from './runner.js';
import { makeSchedule } from './schedule.js';
import { shardSource } from './shard.js';
import { shardText, type Shard } from '../config/replicas.js';
import { Stats, statsSummary, type LatencyStats, type SecondStats } from './stats.js';
import { driveRunner } from './drive-runner.js';

export { GeneratorConfigError } from './errors.js';

/** What callers may pass: defaults filled and values checked by runGenerator. */
export type LoadInput = z.input<typeof LoadConfig>;
export type TransformInput = z.input<typeof Transform>;

export interface GeneratorProgress {
  sent: number;
  /** Requests completed: a response or an error. */
  done: number;
  errors: number;
  timeouts: number;
  passes: number;
  elapsedMs: number;
}

export interface GeneratorSummary {
  /** True when the signal stopped the run; the counts are what happened until then. */
  canceled: boolean;
  startedAt: string;
  target: string;
  /** Requests in one pass of the recording (after `include`). */
  recorded: number;
  /** Requests sent. Every one has a line in the observed file. */
  requests: number;
  responses: number;
  /** Requests without a response (timeouts included), by kind in `errorsByKind`. */
  errors: number;
  timeouts: number;
  errorsByKind: Record<string, number>;
  durationMs: number;
  /** Requests sent per second over the run. */
  rps: number;
  latency: LatencyStats;
  /** The latency histogram, HdrHistogram-encoded, so replicas' latencies merge exactly. */
  latencyHistogram?: string;
  perSecond: SecondStats[];
  statusCounts: Record<string, number>;
  /** Passes with at least one request sent. */
  passes: number;
  observedPath: string;
  /** This generator's replica, `2/4`, when the load was split between several. */
  replica?: string;
}

export interface GeneratorOptions {
  /** The recording's pairs (outbound ones are skipped); or give `store` and `snapshotId`. */
  pairs?: AsyncIterable<RRPair> | Iterable<RRPair>;
  store?: SnapshotStore;
  snapshotId?: string;
  /** Base URL of the service under test: `http://127.0.0.1:8080` (a path is a prefix). */
  target: string;
  load?: LoadInput;
  transforms?: TransformInput[];
  /** Where the observed exchanges go (`.ndjson.gz`). */
  observedPath: string;
  signal?: AbortSignal;
  /** Send only this replica's share of each pass (src/generator/shard.ts). */
  shard?: Shard;
  /** Epoch ms at which sending starts (replicas start together); absent = once planned. */
  startAt?: number;
  onProgress?: (p: GeneratorProgress) => void;
  progressIntervalMs?: number;
  /** Observed response bodies are kept up to this size, then cut and marked. */
  maxBodyBytes?: number;
  /**
   * One pass of the recording is planned once and held when it is smaller than this (default
   * HELD_PLAN_BYTES); a bigger one is streamed from the recording again for each pass.
   */
  heldPlanBytes?: number;
  /** Sources for `${env:NAME}` and `${var:NAME}` in transforms. */
  env?: NodeJS.ProcessEnv;
  vars?: Record<string, string>;
}

const log = childLog('generator');

function parseWith<S extends z.ZodType>(schema: S, value: unknown, prefix: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new GeneratorConfigError([prefix, ...issue.path.map(String)].join('.'), issue.message);
}

function connectionTarget(target: string): { url: URL; conn: ConnectionTarget } {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw new GeneratorConfigError('target', `expected a URL such as http://127.0.0.1:8080, got "${target}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new GeneratorConfigError('target', `expected an http or https URL, got "${target}"`);
  }
  const tls = url.protocol === 'https:';
  return {
    url,
    conn: { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port) || (tls ? 443 : 80), tls },
  };
}

/**
 * How the recording is read again for each pass: a snapshot is re-opened; an array is walked
 * again; any other iterable can be read only once, so it is held (the caller had it in memory).
 */
async function pairSource(opts: GeneratorOptions): Promise<PairSource> {
  const { pairs, store, snapshotId } = opts;
  if (pairs) {
    if (Array.isArray(pairs)) return () => pairs as RRPair[];
    const held: RRPair[] = [];
    for await (const p of pairs) held.push(p);
    return () => held;
  }
  if (store && snapshotId) return () => store.readPairs(snapshotId);
  throw new GeneratorConfigError('pairs', 'give the pairs, or a store and a snapshot id');
}

export async function runGenerator(opts: GeneratorOptions): Promise<GeneratorSummary> {
  const load = parseWith(LoadConfig, opts.load ?? {}, 'load');
  const transforms = parseWith(z.array(Transform), opts.transforms ?? [], 'transforms');
  const { url, conn } = connectionTarget(opts.target);
  const maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;

  const recorded = await pairSource(opts);
  const shard = opts.shard ?? { index: 0, count: 1 };
  // HTTP/2 recordings (gRPC or not) replay over HTTP/2.
  const first = await firstReplayed(recorded, load.include);
  if (first.protocol === 'h2') {
    return runH2Generator({
      opts,
      load,
      transforms,
      target: url,
      open: recorded,
      maxBodyBytes,
      shard,
      untilStart: () => untilStart(opts.startAt, opts.signal),
    });
  }
  const open = shardSource(recorded, load.include, shard);
  // The scan also finds HTTP/2 requests after the first HTTP/1.1 one: a mix is refused.
  const http2 = new Http2Watch(load.include);
  const scanned = await scanRecording(shardSource(http2.watching(recorded), load.include, shard), {
    include: load.include,
    signal: opts.signal,
    heldBytes: opts.heldPlanBytes,
  });
  http2.refuseMix(first.first);
  // `held` (the recorded requests of a small recording) is let go once planned.
  let held = scanned.held;
  const scan = { ...scanned, held: undefined };
  const plan = requestPlanner(scan, { target: url, transforms, env: opts.env, vars: opts.vars });
  if (scan.truncatedBodies) {
    log.warn(
      { count: scan.truncatedBodies },
      'recorded request bodies were cut at capture; they are sent as recorded',
    );
  }

  const stats = new Stats();
  const writer = await ObservedWriter.open(opts.observedPath);
  // A small recording is planned once and held; a big one is read again for each pass.
  const source = held?.map(plan) ?? (() => streamPass(open, scan, plan, { include: load.include }));
  held = undefined;
  const cursor = new Cursor(scan.count, load.duration ? Infinity : load.passes, source, () => runner.pump());
  const runner: Runner = new Runner({
    target: conn,
    connections: load.connections,
    timeoutMs: parseDuration(load.timeout) ?? 10_000,
    cursor,
    schedule: makeSchedule({
      connections: load.connections,
      rate: load.rate,
      speed: load.speed,
      rampUpMs: load.rampUp ? parseDuration(load.rampUp) : undefined,
      spanMs: scan.spanMs,
      count: scan.count,
    }),
    durationMs: load.duration ? parseDuration(load.duration) : undefined,
    writer,
    stats,
    maxBodyBytes,
  });
  if (load.speed !== undefined && load.rampUp !== undefined) {
    log.warn('rampUp is ignored with speed: the recorded timing decides when requests go');
  }
  log.info(
    {
      target: url.origin,
      requests: scan.count,
      skipped: scan.skipped,
      streamed: !Array.isArray(source),
      load,
    },
    'generator started',
  );

  const progress = (): GeneratorProgress => ({
    sent: stats.sent,
    done: stats.completed,
    errors: stats.errors,
    timeouts: stats.timeouts,
    passes: cursor.passesStarted,
    elapsedMs: Math.round(runner.elapsed()),
  });
  const ticker = opts.onProgress
    ? setInterval(() => opts.onProgress!(progress()), opts.progressIntervalMs ?? 1000)
    : undefined;
  await untilStart(opts.startAt, opts.signal);
  const startedAt = await driveRunner(runner, opts.signal, ticker);
  const durationMs = Math.round(performance.now() - runner.startPerf);
  await writer.close();
  if (cursor.error) throw cursor.error;

  const summary: GeneratorSummary = {
    canceled: runner.canceled,
    startedAt: startedAt.toISOString(),
    target: url.origin,
    recorded: scan.count,
    ...statsSummary(stats, durationMs),
    latencyHistogram: stats.encodedLatency(),
    passes: cursor.passesStarted,
    observedPath: writer.path,
    ...(opts.shard && opts.shard.count > 1 ? { replica: shardText(opts.shard) } : {}),
  };
  log.info(
    { requests: summary.requests, errors: summary.errors, rps: summary.rps, canceled: summary.canceled },
    'generator finished',
  );
  return summary;
}

/** Waits until `startAt` (epoch ms) or an abort; a late start goes at once. */
async function untilStart(startAt: number | undefined, signal: AbortSignal | undefined): Promise<void> {
  const wait = startAt === undefined ? 0 : startAt - Date.now();
  if (wait <= 0 || signal?.aborted) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(done, wait);
    signal?.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}
