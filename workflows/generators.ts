/**
 * The replay's load, from replayWorkflow: one generator, or `load.replicas` of them as parallel
 * activities (processes locally, Job pods in a cluster), each a shard of the recording with its
 * part of the rate and connections, all sending from one start time. A replica that fails is
 * named; the others' results stand. Orchestration only.
 */
import { isCancellation, sleep } from '@temporalio/workflow';
import type { ReplayActivities } from '../activities/replay.js';
import type { GeneratorRequest } from '../activities/runtime.js';
import { replicaLoad, shardText } from '../src/config/replicas.js';

type GeneratorSummary = Awaited<ReturnType<ReplayActivities['runGenerator']>>;
type ReplicaOutcome = NonNullable<Parameters<ReplayActivities['analyzeReplay']>[0]['replicas']>[number];

/** Long enough for every replica's process or pod to start and read its shard before the load starts. */
const REPLICA_START_LEAD_MS = 5_000;
const PROGRESS_POLL = '1 second';

export interface LoadOutcome {
  /** One generator's summary. */
  summary?: GeneratorSummary;
  /** With replicas: every replica's summary or failure, in replica order. */
  replicas?: ReplicaOutcome[];
  /** With replicas: which ones failed and why (one generator's failure is thrown instead). */
  failure?: string;
}

interface Activities {
  longRunning: Pick<ReplayActivities, 'runGenerator'>;
  quick: Pick<ReplayActivities, 'replayProgress'>;
}

type Progress = Awaited<ReturnType<ReplayActivities['replayProgress']>>;

export async function runLoad(
  { longRunning, quick }: Activities,
  req: Omit<GeneratorRequest, 'shard' | 'startAt'>,
  onProgress: (p: Progress) => void,
): Promise<LoadOutcome> {
  const count = req.load.replicas;
  if (count <= 1) {
    const summary = await watch(longRunning.runGenerator(req), () => quick.replayProgress(req), onProgress);
    return { summary };
  }
  const startAt = Date.now() + REPLICA_START_LEAD_MS;
  const runs = Array.from({ length: count }, (_, index) => {
    const shard = { index, count };
    return longRunning.runGenerator({ ...req, load: replicaLoad(req.load, shard), shard, startAt });
  });
  const settled = await watch(
    Promise.allSettled(runs),
    () => quick.replayProgress({ replayId: req.replayId, replicas: count }),
    onProgress,
  );
  // Cancelled: every replica has acknowledged (allSettled); the cancellation goes on up.
  const cancelled = settled.find((s) => s.status === 'rejected' && isCancellation(s.reason));
  if (cancelled) throw (cancelled as PromiseRejectedResult).reason;
  const replicas: ReplicaOutcome[] = settled.map((s, index) => {
    const replica = shardText({ index, count });
    return s.status === 'fulfilled'
      ? { replica, summary: s.value }
      : { replica, failure: errorMessage(s.reason) };
  });
  const failed = replicas.filter((r) => r.failure !== undefined);
  return {
    replicas,
    ...(failed.length
      ? { failure: failed.map((r) => `generator replica ${r.replica} failed: ${r.failure}`).join('; ') }
      : {}),
  };
}

/** Waits for `run`, polling progress meanwhile (the generators' heartbeats are not visible here). */
async function watch<T>(
  run: Promise<T>,
  poll: () => Promise<Progress>,
  onProgress: (p: Progress) => void,
): Promise<T> {
  let finished = false;
  const tracked = run.finally(() => (finished = true));
  try {
    while (!finished) {
      await Promise.race([tracked.catch(() => undefined), sleep(PROGRESS_POLL)]);
      if (!finished) onProgress(await poll());
    }
  } catch (err) {
    // Cancelled while polling: let the generators acknowledge and stop before teardown.
    await tracked.catch(() => undefined);
    throw err;
  }
  return tracked;
}

export function errorMessage(err: unknown): string {
  const cause = (err as { cause?: { message?: string } })?.cause?.message;
  return cause ?? (err as Error)?.message ?? String(err);
}
