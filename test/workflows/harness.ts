/**
 * One real Temporal dev server (the `temporal` CLI) and one orchestrator worker per test file,
 * with REPRISE_HOME in a temp folder. The worker is the production one
 * (createOrchestratorWorker); tests may hand it runtime doubles.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { LocalCaptureRuntime } from '../../activities/local/index.js';
import type { CaptureRuntime } from '../../activities/runtime.js';
import type { ReplayRuntime } from '../../activities/runtime.js';
import { ensureTemporalBinary } from '../../src/temporal/binary.js';
import { SEARCH_ATTRIBUTES, TASK_QUEUE } from '../../src/temporal/names.js';
import type { CaptureInput, CaptureProgress } from '../../src/config/capture.js';
import { waitFor } from './loopback.js';
import {
  createOrchestratorWorker,
  installWorkerRuntime,
  type OrchestratorWorkerOptions,
} from '../../workers/orchestrator.js';

export interface WorkflowHarness {
  env: TestWorkflowEnvironment;
  client: Client;
  home: string;
  worker: Worker;
  /** Server + worker start time, for the report. */
  startupMs: number;
  close(): Promise<void>;
}

export async function startTemporal(extraArgs: string[] = []): Promise<TestWorkflowEnvironment> {
  // Before the test environment creates the SDK runtime: its INFO lines would bury the TAP output.
  installWorkerRuntime({ level: 'WARN' });
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: await ensureTemporalBinary() },
      ip: '127.0.0.1',
      searchAttributes: [...SEARCH_ATTRIBUTES],
      extraArgs,
    },
  });
}

export async function startHarness(
  opts: {
    runtime?: CaptureRuntime;
    replayRuntime?: ReplayRuntime;
    serverArgs?: string[];
    home?: string;
    heartbeatThrottle?: OrchestratorWorkerOptions['heartbeatThrottle'];
  } = {},
): Promise<WorkflowHarness> {
  const started = Date.now();
  const home = opts.home ?? (await mkdtemp(path.join(tmpdir(), 'reprise-wf-')));
  const env = await startTemporal(opts.serverArgs);
  const local = opts.runtime ? undefined : new LocalCaptureRuntime({ home });
  const worker = await createOrchestratorWorker({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    home,
    runtime: opts.runtime ?? local,
    replayRuntime: opts.replayRuntime,
    heartbeatThrottle: opts.heartbeatThrottle,
  });
  const running = worker.run();
  const startupMs = Date.now() - started;
  return {
    env,
    client: env.client,
    home,
    worker,
    startupMs,
    close: async () => {
      worker.shutdown();
      await running;
      // A failed test may leave a capture running: its processes must not outlive the file.
      await local?.stopAll();
      await env.teardown();
      await rm(home, { recursive: true, force: true });
    },
  };
}

let seq = 0;
/** A workflow id unique in this run (ids are also the capture's run-folder names). */
export const workflowId = (name: string) => `${name}-${process.pid}-${Date.now()}-${++seq}`;

export { TASK_QUEUE };

/** Starts captureWorkflow and waits until its proxies listen (phase `capturing`). */
export async function startCapturing(client: Client, input: CaptureInput): Promise<WorkflowHandle> {
  const capture = await client.workflow.start('captureWorkflow', {
    taskQueue: TASK_QUEUE,
    workflowId: workflowId('capture'),
    args: [input],
  });
  await waitFor(
    'capturing',
    async () => (await capture.query<CaptureProgress>('progress')).phase === 'capturing',
    60_000,
  );
  return capture;
}
