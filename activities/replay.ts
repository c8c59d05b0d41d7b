/**
 * The replay's activities. What differs between running locally and in a cluster (processes
 * vs pods) sits behind ReplayRuntime; reading the store, analysing and reporting are the same
 * everywhere and live here.
 */
import { ApplicationFailure } from '@temporalio/activity';
import {
  RuntimeError,
  type ComponentLogs,
  type GeneratorProgress,
  type GeneratorRequest,
  type ReplayRef,
  type ReplayRuntime,
  type RuntimeContext,
} from './runtime.js';
import { inActivity } from './in-activity.js';
import type { ReplayInput, ReplayVerdict } from '../src/config/replay.js';
import type { ResponderStats } from '../src/model/replay.js';
import type { SnapshotStore } from '../src/store/types.js';
import { SnapshotNotFoundError } from '../src/store/types.js';
import type { GeneratorSummary } from '../src/generator/index.js';
import { analyzeReplay } from '../src/analyzer/index.js';
import { writeReport } from '../src/report/write.js';
import { readObserved } from '../src/generator/observed-reader.js';
import { replayDir } from '../src/base/paths.js';
import { childLog } from '../src/base/log.js';
import { answersH2c } from '../src/protocols/http2/h2c-probe.js';
import { FsReplayResults, type ReplayResultStore } from '../src/store/results.js';
import { mergeReplicaSummaries, replicaRows, type ReplicaOutcome } from '../src/analyzer/replicas.js';
import type { ObservedExchange } from '../src/model/replay.js';

export interface AnalyzeRequest extends ReplayRef {
  workflowId: string;
  input: ReplayInput;
  generator?: GeneratorSummary;
  /** The generators of a split load (load.replicas), instead of `generator`. */
  replicas?: ReplicaOutcome[];
  responder?: ResponderStats;
  logs: ComponentLogs[];
  startedAt: string;
  endedAt: string;
  error?: string;
  canceled: boolean;
}

export interface AnalyzeResult {
  verdict: ReplayVerdict;
  reportPath: string;
  requests: number;
  errors: number;
}

/** `results`: where generators leave what they observed, and where reports are kept too. */
export function createReplayActivities(
  runtime: ReplayRuntime,
  store: SnapshotStore,
  home: string,
  results: ReplayResultStore = new FsReplayResults(home),
) {
  return {
    async describeSnapshot({ snapshotId }: { snapshotId: string }) {
      try {
        const m = await store.getManifest(snapshotId);
        return { service: m.service, inbound: m.counts.inbound, outbound: m.counts.outbound };
      } catch (err) {
        if (err instanceof SnapshotNotFoundError) {
          throw ApplicationFailure.nonRetryable(
            `snapshotId: snapshot "${snapshotId}" not found`,
            'InvalidInput',
          );
        }
        throw err;
      }
    },
    startResponder: (req: Parameters<ReplayRuntime['startResponder']>[0]) =>
      inActivity((ctx) => runtime.startResponder(req, ctx)),
    responderStats: (req: ReplayRef) => inActivity((ctx) => runtime.responderStats(req, ctx)),
    stopResponder: (req: ReplayRef) => inActivity((ctx) => runtime.stopResponder(req, ctx)),
    startCollector: (req: ReplayRef) => inActivity((ctx) => runtime.startCollector(req, ctx)),
    collectLogs: (req: ReplayRef) => inActivity((ctx) => runtime.collectLogs(req, ctx)),
    stopCollector: (req: ReplayRef) => inActivity((ctx) => runtime.stopCollector(req, ctx)),
    startApp: (req: Parameters<ReplayRuntime['startApp']>[0]) =>
      inActivity((ctx) => runtime.startApp(req, ctx)),
    stopApp: (req: ReplayRef) => inActivity((ctx) => runtime.stopApp(req, ctx)),
    waitForTarget: (req: ReplayRef & { url: string; readyPath: string; timeoutMs: number }) =>
      inActivity((ctx) => waitForTarget(req, ctx, runtime)),
    runGenerator: (req: GeneratorRequest) => inActivity((ctx) => runtime.runGenerator(req, ctx)),
    /** The generator's progress; with `replicas`, the sum over all of them. */
    async replayProgress(req: ReplayRef & { replicas?: number }): Promise<GeneratorProgress> {
      const count = req.replicas ?? 1;
      const shards =
        count > 1 ? Array.from({ length: count }, (_, index) => ({ index, count })) : [undefined];
      const total = { sent: 0, done: 0, errors: 0 };
      for (const shard of shards) {
        const p = await inActivity((ctx) => runtime.generatorProgress({ ...req, shard }, ctx));
        total.sent += p?.sent ?? 0;
        total.done += p?.done ?? 0;
        total.errors += p?.errors ?? 0;
      }
      return total;
    },
    async analyzeReplay(req: AnalyzeRequest): Promise<AnalyzeResult> {
      const dir = replayDir(home, req.replayId);
      const { input } = req;
      const report = await analyzeReplay({
        recorded: store.readPairs(input.snapshotId),
        observed: observedStreams(results, req),
        assertions: input.assertions,
        goals: input.goals,
        generator: req.replicas ? mergeReplicaSummaries(req.replicas) : req.generator,
        ...(req.replicas ? { replicas: replicaRows(req.replicas) } : {}),
        responder: req.responder,
        meta: {
          replayId: req.replayId,
          snapshotId: input.snapshotId,
          target: input.target.url ?? '',
          mode: input.mode,
          startedAt: req.startedAt,
          endedAt: req.endedAt,
          workflowId: req.workflowId,
        },
        logs: req.logs,
        error: req.error,
        canceled: req.canceled,
      });
      const paths = await writeReport(dir, report);
      await keepReport(results, req.replayId, [paths.json, paths.html]);
      return {
        verdict: report.verdict,
        reportPath: paths.html,
        requests: report.summary.requests,
        errors: report.summary.errors,
      };
    },
    cleanupReplay: (req: ReplayRef & { cleanup: ReplayInput['cleanup'] }) =>
      inActivity((ctx) => runtime.cleanup(req, ctx)),
  };
}

export type ReplayActivities = ReturnType<typeof createReplayActivities>;

/**
 * What the generator observed; with replicas, each finished replica's stream in turn (a failed
 * one's is left out: it may be cut short, and the verdict names that replica).
 */
async function* observedStreams(
  results: ReplayResultStore,
  req: AnalyzeRequest,
): AsyncIterable<ObservedExchange> {
  const parts = req.replicas ? req.replicas.flatMap((o, index) => (o.summary ? [index] : [])) : [undefined];
  for (const replica of parts) {
    const observed = await results.openObserved(req.replayId, replica);
    if (observed) yield* readObserved(observed);
  }
}

/** A copy of the report beside the replay's results; the local one stands when that fails. */
async function keepReport(results: ReplayResultStore, replayId: string, files: string[]): Promise<void> {
  try {
    await results.putReport(replayId, files);
  } catch (err) {
    childLog('replay').warn(
      { replayId, store: results.root, err: (err as Error).message },
      'could not copy the report into the store; it is kept locally',
    );
  }
}

/**
 * Polls the target until it answers any HTTP status (or HTTP/2 SETTINGS), within the timeout.
 * An app Reprise started that exits with a failure ends the wait at once; one that exits 0 may
 * have started the service in the background (a launcher script), so the wait goes on.
 */
async function waitForTarget(
  req: ReplayRef & { url: string; readyPath: string; timeoutMs: number },
  ctx: RuntimeContext,
  runtime: ReplayRuntime,
) {
  const { url, readyPath, timeoutMs } = req;
  const deadline = Date.now() + timeoutMs;
  const probe = new URL(readyPath, url);
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(probe, { signal: AbortSignal.timeout(2000) });
      await res.body?.cancel();
      return;
    } catch (err) {
      last = (err as Error).message;
      if (await answersH2c(probe.origin, 2000)) return; // an HTTP/2-only (gRPC) app
      const ended = await runtime.appEnded?.(req);
      if (ended?.how && ended.how !== 'code 0') {
        const said = ended.lastLine ? `its last line: ${JSON.stringify(ended.lastLine)}` : 'it wrote nothing';
        throw ApplicationFailure.nonRetryable(
          `target.app: the app exited with ${ended.how} before it answered on ${probe.href}; ${said}`,
          'AppExited',
        );
      }
    }
    if (ctx.signal.aborted) throw new RuntimeError('cancelled while waiting for the app', 'Cancelled', true);
    ctx.heartbeat();
    await new Promise((r) => setTimeout(r, 250));
  }
  throw ApplicationFailure.nonRetryable(
    `target.app: the service did not answer on ${probe.href} within ${timeoutMs} ms (last error: ${last})`,
    'AppNotReady',
  );
}
