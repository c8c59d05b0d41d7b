/**
 * The orchestrator worker: Reprise's workflows and their activities on task queue `reprise`, on
 * the local runtime or, with REPRISE_RUNTIME=kubernetes, the Kubernetes one (activities/kube/env.ts).
 * As a process (`node dist/workers/orchestrator.js`) it serves the server named by
 * TEMPORAL_ADDRESS or the one `reprise up` started, prints one JSON ready line on stdout, and
 * stops on SIGTERM/SIGINT. In a command, resolveTemporal() runs it in-process instead.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  DefaultLogger,
  NativeConnection,
  Runtime,
  Worker,
  type LogLevel,
  type WorkerOptions,
} from '@temporalio/worker';
import { createCaptureActivities } from '../activities/capture.js';
import { LocalCaptureRuntime, LocalReplayRuntime } from '../activities/local/index.js';
import type { CaptureRuntime, ReplayRuntime } from '../activities/runtime.js';
import { createReplayActivities } from '../activities/replay.js';
import { createRegressionActivities } from '../activities/regression.js';
import { kubeRuntimesFromEnv } from '../activities/kube/env.js';
import { openStores } from '../src/store/open.js';
import { childLog } from '../src/base/log.js';
import { repriseHome } from '../src/base/paths.js';
import { ensureSearchAttributes } from '../src/temporal/connect.js';
import { TASK_QUEUE } from '../src/temporal/names.js';
import { findServer } from '../src/temporal/find-server.js';
import { loadWorkflowBundle } from '../src/temporal/workflow-bundle.js';

export interface OrchestratorWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  /** REPRISE_HOME of the processes the activities start. */
  home: string;
  /** Default: the local runtime (processes on this machine). */
  runtime?: CaptureRuntime;
  replayRuntime?: ReplayRuntime;
  /** How soon a heartbeating activity learns it was cancelled (tests shorten the SDK's 30 s). */
  heartbeatThrottle?: Pick<
    WorkerOptions,
    'maxHeartbeatThrottleInterval' | 'defaultHeartbeatThrottleInterval'
  >;
}

const PINO_LEVEL = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const;

/**
 * Sends the SDK's logs (workflow `log` calls, activity and workflow failures, and the native
 * core's own lines, which would otherwise go straight to the console) to pino: JSON for a
 * worker process, the log file for a command's in-process worker. Must run before the first
 * NativeConnection or Worker; a no-op when a Temporal runtime already exists (tests).
 * `shutdownSignals: []` leaves SIGINT/SIGTERM to the caller (a command drains its capture first).
 */
export function installWorkerRuntime(
  opts: { level?: LogLevel; shutdownSignals?: NodeJS.Signals[] } = {},
): void {
  if (Runtime._instance) return;
  const log = childLog('temporal-sdk');
  Runtime.install({
    logger: new DefaultLogger(opts.level ?? 'INFO', ({ level, message, meta }) => {
      // pino serialises an Error only under `err`.
      const { error, ...rest } = meta ?? {};
      log[PINO_LEVEL[level]](error === undefined ? rest : { ...rest, err: error }, message);
    }),
    telemetryOptions: { logging: { forward: {} } },
    shutdownSignals: opts.shutdownSignals,
  });
}

export async function createOrchestratorWorker(opts: OrchestratorWorkerOptions): Promise<Worker> {
  const stores = openStores(opts.home);
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: TASK_QUEUE,
    workflowBundle: await loadWorkflowBundle(),
    activities: {
      ...createCaptureActivities(opts.runtime ?? new LocalCaptureRuntime({ home: opts.home })),
      ...createReplayActivities(
        opts.replayRuntime ?? new LocalReplayRuntime(opts.home),
        stores.snapshots,
        opts.home,
        stores.results,
      ),
      ...createRegressionActivities(opts.home),
    },
    ...opts.heartbeatThrottle,
  });
}

/** A worker running in this process until stop(); for the embedded default. */
export interface InProcessWorker {
  /** Stops polling, then kills what its captures left running (nothing can resume them). */
  stop(): Promise<void>;
}

export async function startInProcessWorker(opts: {
  address: string;
  namespace: string;
  home: string;
}): Promise<InProcessWorker> {
  installWorkerRuntime({ level: 'WARN', shutdownSignals: [] });
  const connection = await NativeConnection.connect({ address: opts.address });
  const runtime = new LocalCaptureRuntime({ home: opts.home });
  const replayRuntime = new LocalReplayRuntime(opts.home);
  const worker = await createOrchestratorWorker({
    connection,
    namespace: opts.namespace,
    home: opts.home,
    runtime,
    replayRuntime,
  });
  const log = childLog('orchestrator');
  const running = worker.run().catch((err: unknown) => log.error({ err }, 'orchestrator worker failed'));
  return {
    stop: async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      await runtime.stopAll();
      await replayRuntime.stopAll();
      await connection.close();
    },
  };
}

async function main(): Promise<void> {
  const home = repriseHome();
  // REPRISE_RUNTIME=kubernetes: checked before anything connects, so a bad variable fails at once.
  const kube = kubeRuntimesFromEnv(process.env, home);
  installWorkerRuntime();
  const found = await findServer(home);
  if (!found) {
    throw new Error('no Temporal server: set TEMPORAL_ADDRESS (and TEMPORAL_NAMESPACE), or run `reprise up`');
  }
  const { server, connection: client } = found;
  await ensureSearchAttributes(client, server.namespace);
  await client.close();
  const connection = await NativeConnection.connect({
    address: server.address,
    tls: server.tls,
    apiKey: server.apiKey,
  });
  // A long-lived worker keeps warm standbys of the replay processes (REPRISE_STANDBY=0: none).
  const local = kube
    ? undefined
    : new LocalReplayRuntime(home, { standby: process.env.REPRISE_STANDBY !== '0' });
  const worker = await createOrchestratorWorker({
    connection,
    namespace: server.namespace,
    home,
    ...(local ? { replayRuntime: local } : kube),
  });
  const ready = {
    event: 'ready',
    taskQueue: TASK_QUEUE,
    runtime: kube ? 'kubernetes' : 'local',
    address: server.address,
    namespace: server.namespace,
  };
  process.stdout.write(JSON.stringify({ ...ready, pid: process.pid }) + '\n');
  // The SDK's runtime shuts the worker down on SIGINT/SIGTERM; run() then resolves.
  await worker.run();
  local?.stopStandbys();
  await connection.close();
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`orchestrator: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
