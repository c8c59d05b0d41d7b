/**
 * The generator of a Kubernetes replay (or one replica of a split load): a Job in Reprise's namespace (its load and transforms in
 * a Secret: transforms may carry signing keys) that reads the snapshot from the forwarder and
 * uploads its observed traffic and summary there. Waited for until the summary arrives; a
 * cancelled activity deletes the Job, which stops its pod.
 */
import { shardText, type Shard } from '../../../src/config/replicas.js';
import type { GeneratorSummary } from '../../../src/generator/index.js';
import { resourcePath } from '../../../src/kube/client/api.js';
import { LABELS } from '../../../src/kube/api/annotations.js';
import { openReplayResults } from '../../../src/store/open.js';
import type { GeneratorProgress, GeneratorRequest, ReplayRef } from '../../runtime.js';
import { RuntimeError, type RuntimeContext } from '../../runtime.js';
import { objectName, replaySelector, waitFor } from '../common.js';
import { CONFIG_MOUNT, type ReplayCluster } from './cluster.js';
import { podLogs } from './collector.js';

/** `generator`, or `generator-2` for replica 2 of a split load: its Job, Secret and pod label. */
const componentOf = (shard: Shard | undefined) => (shard ? `generator-${shard.index + 1}` : 'generator');

export async function runGenerator(
  k: ReplayCluster,
  req: GeneratorRequest,
  ctx: RuntimeContext,
): Promise<GeneratorSummary> {
  const done = await readSummary(k, req.replayId, req.shard?.index);
  if (done) return done; // a retry after the generator finished
  const jobPath = resourcePath('Job', k.ns, objectName(componentOf(req.shard), req.replayId));
  try {
    return await startAndWaitForGenerator(k, req, ctx);
  } catch (err) {
    if (ctx.signal.aborted) {
      // Deleting the Job stops its pod (SIGTERM: the generator stops sending). Not with the
      // cancelled signal: this call must get through.
      await k.api.remove(jobPath);
      throw new RuntimeError('generator cancelled', 'Cancelled', true);
    }
    throw err;
  }
}

async function startAndWaitForGenerator(
  k: ReplayCluster,
  req: GeneratorRequest,
  ctx: RuntimeContext,
): Promise<GeneratorSummary> {
  const meta = k.meta(req.replayId, componentOf(req.shard));
  const replica = req.shard?.index;
  const shardArgs = req.shard ? [`--shard=${shardText(req.shard)}`, `--start-at=${req.startAt ?? 0}`] : [];
  // A Secret: transforms may carry signing keys.
  await k.api.ensure(
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: meta,
      stringData: { 'config.json': JSON.stringify({ load: req.load, transforms: req.transforms }) },
    },
    ctx.signal,
  );
  const upload = `${k.options.forwarderUrl.replace(/\/+$/, '')}/replays/${encodeURIComponent(req.replayId)}`;
  await k.api.ensure(
    {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: meta,
      spec: {
        backoffLimit: 0,
        activeDeadlineSeconds: Math.ceil(k.generatorTimeoutMs / 1000),
        template: {
          metadata: { labels: meta.labels },
          spec: {
            restartPolicy: 'Never',
            terminationGracePeriodSeconds: 30,
            containers: [
              k.container(
                'generator',
                [
                  `--snapshot=${req.snapshotId}`,
                  `--snapshot-url=${k.options.forwarderUrl}`,
                  `--target=${req.targetUrl}`,
                  '--out=/tmp/observed.ndjson.gz',
                  `--config=${CONFIG_MOUNT}/config.json`,
                  `--upload-url=${upload}`,
                  ...shardArgs,
                ],
                [{ name: 'config', mountPath: CONFIG_MOUNT }],
              ),
            ],
            volumes: [{ name: 'config', secret: { secretName: meta.name } }],
          },
        },
      },
    },
    ctx.signal,
  );
  const jobPath = resourcePath('Job', k.ns, meta.name);
  return waitFor<GeneratorSummary>(
    `generator Job ${k.ns}/${meta.name}`,
    async () => {
      const summary = await readSummary(k, req.replayId, replica);
      if (summary) return { done: summary };
      const job = await k.api.find<{ status?: JobStatus }>(jobPath, ctx.signal);
      if (!job)
        throw new RuntimeError(`the generator Job ${k.ns}/${meta.name} disappeared`, 'GeneratorGone', true);
      const finished = jobFinished(job.status);
      if (finished === 'Failed') {
        const why = job.status?.conditions?.find((c) => c.type === 'Failed');
        throw new RuntimeError(
          `the generator Job ${k.ns}/${meta.name} failed: ${why?.reason ?? ''} ${why?.message ?? ''}`.trim(),
          'GeneratorFailed',
        );
      }
      if (finished === 'Complete') {
        // The generator uploads its summary before it exits: a complete Job without one has lost it.
        const late = await readSummary(k, req.replayId, replica);
        if (late) return { done: late };
        throw new RuntimeError(
          `the generator Job finished without a summary (Job ${k.ns}/${meta.name}; it uploads to ${upload})`,
          'GeneratorFailed',
        );
      }
      return { waiting: `running (${job.status?.active ?? 0} active pods)` };
    },
    { timeoutMs: k.generatorTimeoutMs, intervalMs: 1_000 },
    ctx,
  );
}

async function readSummary(
  k: ReplayCluster,
  replayId: string,
  replica?: number,
): Promise<GeneratorSummary | undefined> {
  try {
    // Where the forwarder's snapshot API put it (the volume, or the S3 bucket).
    const text = await openReplayResults(k.options.home).getSummary(replayId, replica);
    return text === undefined ? undefined : (JSON.parse(text) as GeneratorSummary);
  } catch {
    return undefined;
  }
}

/** The newest progress line in the generator pod's log; undefined while there is none. */
export async function generatorProgress(
  k: ReplayCluster,
  req: ReplayRef & { shard?: Shard },
  ctx: RuntimeContext,
): Promise<GeneratorProgress | undefined> {
  const logs = await podLogs(
    k,
    k.ns,
    `${replaySelector(req.replayId)},${LABELS.component}=${componentOf(req.shard)}`,
    'generator',
    ctx,
  );
  for (const { lines } of logs) {
    for (let i = lines.length - 1; i >= 0; i--) {
      if (!lines[i].includes('"event":"progress"')) continue;
      try {
        const p = JSON.parse(lines[i]) as Partial<GeneratorProgress>;
        return { sent: p.sent ?? 0, done: p.done ?? 0, errors: p.errors ?? 0 };
      } catch {
        // a cut line
      }
    }
  }
  return undefined;
}

interface JobStatus {
  active?: number;
  succeeded?: number;
  failed?: number;
  conditions?: { type: string; status: string; reason?: string; message?: string }[];
}

function jobFinished(s: JobStatus | undefined): 'Complete' | 'Failed' | undefined {
  const c = s?.conditions ?? [];
  if (c.some((x) => x.type === 'Failed' && x.status === 'True')) return 'Failed';
  if (c.some((x) => x.type === 'Complete' && x.status === 'True')) return 'Complete';
  return undefined;
}
