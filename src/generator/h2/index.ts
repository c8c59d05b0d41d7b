/**
 * runGenerator for a gRPC recording (its first inbound pair is a gRPC call): the calls are
 * planned (grpc-plan), sent over HTTP/2 sessions (grpc-runner) and summarised like HTTP/1.1.
 * Transforms do not apply to protobuf messages yet and are refused with a clear error.
 */
import { parseDuration } from '../../base/duration.js';
import { childLog } from '../../base/log.js';
import type { LoadConfig, Transform } from '../../config/replay.js';
import { GeneratorConfigError } from '../errors.js';
import type { GeneratorOptions, GeneratorSummary } from '../index.js';
import { ObservedWriter } from '../observed-writer.js';
import type { PairSource } from '../request-plan.js';
import { makeSchedule } from '../schedule.js';
import { Stats, statsSummary } from '../stats.js';
import { planGrpcCalls } from './grpc-plan.js';
import { GrpcRunner } from './grpc-runner.js';
import { DEFAULT_STREAMS_PER_CONNECTION } from './session-pool.js';
import { driveRunner } from '../drive-runner.js';

export { isGrpcRecording } from './grpc-plan.js';

const log = childLog('generator');

export interface GrpcRunInput {
  opts: GeneratorOptions;
  load: LoadConfig;
  transforms: Transform[];
  target: URL;
  open: PairSource;
  maxBodyBytes: number;
}

export async function runGrpcGenerator(input: GrpcRunInput): Promise<GeneratorSummary> {
  const { opts, load, target, open } = input;
  if (input.transforms.length) {
    throw new GeneratorConfigError('transforms', 'transforms do not apply to gRPC recordings yet: give none');
  }
  const plan = await planGrpcCalls(open, target, load.include);
  const stats = new Stats();
  const writer = await ObservedWriter.open(opts.observedPath);
  const runner = new GrpcRunner({
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
    { target: target.origin, calls: plan.calls.length, skipped: plan.skipped, load },
    'gRPC generator started',
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
  const startedAt = await driveRunner(runner, opts.signal, ticker);
  const durationMs = Math.round(runner.elapsed());
  await writer.close();
  return {
    canceled: runner.canceled,
    startedAt: startedAt.toISOString(),
    target: target.origin,
    recorded: plan.calls.length,
    ...statsSummary(stats, durationMs),
    passes: runner.passesStarted,
    observedPath: writer.path,
  };
}
