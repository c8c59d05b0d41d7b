/**
 * runGenerator for a recording made over HTTP/2 (gRPC calls, plain HTTP/2 requests, or both;
 * protocol-choice.ts decides): the requests are planned (plan.ts), sent over HTTP/2 connections
 * (h2-runner.ts: h2 over TLS with ALPN for an https target, h2c with prior knowledge otherwise)
 * and summarised like HTTP/1.1. Transforms apply to plain HTTP/2 requests as to HTTP/1.1 ones
 * (a recording with gRPC calls refuses them, plan.ts).
 */
import { parseDuration } from '../../base/duration.js';
import { childLog } from '../../base/log.js';
import { type Shard, shardText } from '../../config/replicas.js';
import type { LoadConfig, Transform } from '../../config/replay.js';
import type { GeneratorOptions, GeneratorSummary } from '../index.js';
import { ObservedWriter } from '../observed-writer.js';
import type { PairSource } from '../request-plan.js';
import { makeSchedule } from '../schedule.js';
import { Stats, statsSummary } from '../stats.js';
import type { CaptureWindow } from '../transforms/date-shift.js';
import { compileTransforms } from '../transforms/index.js';
import { planH2Calls } from './plan.js';
import { H2Runner } from './h2-runner.js';
import { DEFAULT_STREAMS_PER_CONNECTION } from './session-pool.js';
import { driveRunner } from '../drive-runner.js';

export { firstReplayed, Http2Watch } from './protocol-choice.js';

const log = childLog('generator');

export interface H2RunInput {
  opts: GeneratorOptions;
  load: LoadConfig;
  transforms: Transform[];
  target: URL;
  open: PairSource;
  maxBodyBytes: number;
  /** This generator's share when several send together. */
  shard: Shard;
  /** Resolves when sending may start (replicas start together). */
  untilStart: () => Promise<void>;
}

export async function runH2Generator(input: H2RunInput): Promise<GeneratorSummary> {
  const { opts, load, target, open } = input;
  const compile = (window: CaptureWindow) =>
    compileTransforms(input.transforms, { window, env: opts.env ?? process.env, vars: opts.vars ?? {} });
  const plan = await planH2Calls(open, target, load.include, input.shard, compile);
  const stats = new Stats();
  const writer = await ObservedWriter.open(opts.observedPath);
  const runner = new H2Runner({
    target: {
      host: target.hostname.replace(/^\[|\]$/g, ''),
      port: Number(target.port) || (target.protocol === 'https:' ? 443 : 80),
      tls: target.protocol === 'https:',
    },
    calls: plan.calls,
    passes: load.duration ? Infinity : load.passes,
    connections: load.connections,
    streamsPerConnection: DEFAULT_STREAMS_PER_CONNECTION,
    timeoutMs: parseDuration(load.timeout) ?? 10_000,
    schedule: makeSchedule({
      connections: load.connections,
      rate: load.rate,
      speed: load.speed,
      rampUpMs: load.rampUp ? parseDuration(load.rampUp) : undefined,
      spanMs: plan.spanMs,
      count: plan.calls.length,
    }),
    durationMs: load.duration ? parseDuration(load.duration) : undefined,
    writer,
    stats,
    maxBodyBytes: input.maxBodyBytes,
  });
  log.info(
    { target: target.origin, requests: plan.calls.length, grpc: plan.grpc, skipped: plan.skipped, load },
    'HTTP/2 generator started',
  );
  const ticker = opts.onProgress
    ? setInterval(
        () =>
          opts.onProgress!({
            sent: stats.sent,
            done: stats.completed,
            errors: stats.errors,
            timeouts: stats.timeouts,
            passes: runner.passesStarted,
            elapsedMs: Math.round(runner.elapsed()),
          }),
        opts.progressIntervalMs ?? 1000,
      )
    : undefined;
  await input.untilStart();
  const startedAt = await driveRunner(runner, opts.signal, ticker);
  const durationMs = Math.round(runner.elapsed());
  await writer.close();
  return {
    canceled: runner.canceled,
    startedAt: startedAt.toISOString(),
    target: target.origin,
    recorded: plan.calls.length,
    ...statsSummary(stats, durationMs),
    latencyHistogram: stats.encodedLatency(),
    passes: runner.passesStarted,
    observedPath: writer.path,
    ...(input.shard.count > 1 ? { replica: shardText(input.shard) } : {}),
  };
}
