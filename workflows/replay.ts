/**
 * replayWorkflow: replays a snapshot's inbound traffic against the service under test while
 * the responder answers its outbound calls from the recording, then analyses and reports.
 * Orchestration only: every side effect is an activity. Teardown always runs, in reverse
 * order of set-up, inside a non-cancellable scope.
 */
import {
  ApplicationFailure,
  CancellationScope,
  defineQuery,
  defineSignal,
  isCancellation,
  proxyActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { ReplayActivities } from '../activities/replay.js';
import { parseDuration } from '../src/base/duration.js';
import {
  ReplayInput,
  type ReplayPhase,
  type ReplayProgress,
  type ReplayResult,
  type ReplayVerdict,
} from '../src/config/replay.js';
import { describeZodIssues } from '../src/base/issues.js';
import { toSafeId } from '../src/base/ids.js';
import { errorMessage, runLoad, type LoadOutcome } from './generators.js';
import { RepriseKind, RepriseService, RepriseSnapshotId, RepriseVerdict } from '../src/temporal/names.js';

export const cancelReplaySignal = defineSignal('cancel');
export const phaseQuery = defineQuery<ReplayPhase>('phase');
export const replayProgressQuery = defineQuery<ReplayProgress>('progress');

/** Short bookkeeping calls: fast, retried a few times. */
const quick = proxyActivities<ReplayActivities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 5, initialInterval: '500ms' },
});
/**
 * Starting components: waits for a ready line or a health check. A cancelled start is waited
 * for: its undo must not run while it is still starting (a workload patched after it was
 * restored would stay routed to a responder that is gone).
 */
const setup = proxyActivities<ReplayActivities>({
  startToCloseTimeout: '3 minutes',
  heartbeatTimeout: '30 seconds',
  cancellationType: 'WAIT_CANCELLATION_COMPLETED',
  retry: { maximumAttempts: 3, initialInterval: '1 second', nonRetryableErrorTypes: ['InvalidInput'] },
});
/** The generator: as long as the load lasts; a lost worker is noticed by the heartbeat. */
const longRunning = proxyActivities<ReplayActivities>({
  startToCloseTimeout: '24 hours',
  heartbeatTimeout: '10 seconds',
  cancellationType: 'WAIT_CANCELLATION_COMPLETED',
  retry: { maximumAttempts: 3, initialInterval: '1 second', nonRetryableErrorTypes: ['InvalidInput'] },
});
/** Teardown must finish: more attempts, each bounded. */
const teardown = proxyActivities<ReplayActivities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 10, initialInterval: '500ms', maximumInterval: '5 seconds' },
});

/** Validates the input without I/O; a bad input fails the workflow for good, naming the field. */
export function parseReplayInput(raw: unknown): ReplayInput {
  const parsed = ReplayInput.safeParse(raw);
  if (!parsed.success) {
    throw ApplicationFailure.nonRetryable(
      `invalid replay input: ${describeZodIssues(parsed.error.issues)}`,
      'InvalidInput',
    );
  }
  return parsed.data;
}

export async function replayWorkflow(raw: unknown): Promise<ReplayResult> {
  const { workflowId } = workflowInfo();
  let phase: ReplayPhase = 'Initializing';
  const progress: Omit<ReplayProgress, 'phase'> = { sent: 0, done: 0, errors: 0 };
  setHandler(phaseQuery, () => phase);
  setHandler(replayProgressQuery, () => ({ phase, ...progress }));

  const input = parseReplayInput(raw);
  const replayId = input.replayId ?? toSafeId(workflowId);
  upsertSearchAttributes([
    { key: RepriseKind, value: 'replay' },
    { key: RepriseSnapshotId, value: input.snapshotId },
  ]);

  // Before anything is set up: a snapshot that does not exist fails the replay at once.
  const snapshot = await quick.describeSnapshot({ snapshotId: input.snapshotId });
  progress.total = snapshot.inbound;
  upsertSearchAttributes([{ key: RepriseService, value: snapshot.service }]);
  const startedAt = new Date().toISOString();
  const compensations: (() => Promise<void>)[] = [];
  const main = new CancellationScope();
  let canceled = false;
  setHandler(cancelReplaySignal, () => {
    canceled = true;
    main.cancel();
  });

  // The input's timeout bounds everything before analysis; teardown and the report still run.
  let timedOut = false;
  void CancellationScope.cancellable(async () => {
    await sleep(parseDuration(input.timeout) ?? 30 * 60_000);
    timedOut = true;
    main.cancel();
  }).catch(() => undefined);

  let failure: string | undefined;
  let cancellation: unknown;
  let generatorSummary: LoadOutcome['summary'];
  let replicas: LoadOutcome['replicas'];
  try {
    await main.run(async () => {
      let responderUrl: string | undefined;
      let targetUrl = input.target.url;
      if (input.mode !== 'generator-only') {
        compensations.unshift(() => teardown.stopResponder({ replayId }));
        responderUrl = (
          await setup.startResponder({ replayId, snapshotId: input.snapshotId, config: input.responder })
        ).url;
      }
      compensations.unshift(() => teardown.stopCollector({ replayId }));
      await setup.startCollector({ replayId });
      if (input.target.app || input.target.workload) {
        compensations.unshift(() => teardown.stopApp({ replayId }));
        const started = await setup.startApp({
          replayId,
          app: input.target.app,
          workload: input.target.workload,
          targetUrl: input.target.url,
          responderUrl,
        });
        targetUrl ??= started.targetUrl;
      }
      if (input.target.url && input.target.app) {
        await setup.waitForTarget({
          replayId,
          url: input.target.url,
          readyPath: input.target.app.readyPath,
          timeoutMs: parseDuration(input.target.app.readyTimeout) ?? 30_000,
        });
      }

      phase = 'Testing';
      if (input.mode === 'responder-only') {
        // The mocks stay up for the user's own tests until the duration ends or a cancel.
        await sleep(parseDuration(input.responderDuration ?? input.timeout) ?? 0);
        return;
      }
      if (!targetUrl)
        throw ApplicationFailure.nonRetryable('target.url: no URL to send the replay to', 'InvalidInput');
      const load = await runLoad(
        { longRunning, quick },
        { replayId, snapshotId: input.snapshotId, targetUrl, load: input.load, transforms: input.transforms },
        (p) => Object.assign(progress, p),
      );
      generatorSummary = load.summary;
      replicas = load.replicas;
      failure = load.failure;
      const sums = load.summary ? [load.summary] : (load.replicas ?? []).flatMap((r) => r.summary ?? []);
      const sum = (f: (s: (typeof sums)[number]) => number) => sums.reduce((n, s) => n + f(s), 0);
      Object.assign(progress, {
        sent: sum((s) => s.requests),
        done: sum((s) => s.responses + s.errors),
        errors: sum((s) => s.errors),
      });
    });
  } catch (err) {
    if (isCancellation(err) && timedOut)
      failure = `timeout: the replay did not finish within ${input.timeout}`;
    else if (isCancellation(err)) {
      canceled = true;
      cancellation = err;
    } else failure = errorMessage(err);
  }

  // Analysis and teardown happen whatever happened above, and cannot be cancelled.
  let result!: ReplayResult;
  await CancellationScope.nonCancellable(async () => {
    try {
      phase = 'Analyzing';
      const responder =
        input.mode === 'generator-only' ? undefined : await quick.responderStats({ replayId });
      const logs = await quick.collectLogs({ replayId });
      const analysis = await quick.analyzeReplay({
        replayId,
        workflowId,
        input,
        generator: generatorSummary,
        replicas,
        responder,
        logs,
        startedAt,
        endedAt: new Date().toISOString(),
        error: failure,
        canceled,
      });
      result = {
        replayId,
        workflowId,
        verdict: analysis.verdict,
        reportPath: analysis.reportPath,
        requests: analysis.requests,
        errors: analysis.errors,
        responder: {
          match: responder?.match ?? 0,
          noMatch: responder?.noMatch ?? 0,
          passthrough: responder?.passthrough ?? 0,
        },
      };
    } finally {
      for (const undo of compensations) {
        await undo().catch(() => undefined);
      }
      await teardown.cleanupReplay({ replayId, cleanup: input.cleanup }).catch(() => undefined);
    }
  });
  phase = result.verdict as ReplayVerdict;
  upsertSearchAttributes([{ key: RepriseVerdict, value: result.verdict }]);
  // Cancelled through Temporal (not the cancel signal): end as Canceled, after teardown.
  if (cancellation && CancellationScope.current().consideredCancelled) throw cancellation;
  return result;
}
