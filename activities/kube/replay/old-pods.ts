/**
 * After the rollout that routes a workload to the responder: its replaced pods are no longer
 * counted by the Deployment's status, yet while they terminate they still answer and kube-proxy
 * may still send them Service traffic. Those pods call the real dependencies (stopped, in a
 * replay), so a generator starting at once would see errors the new build never made: the wait
 * ends when no pod of the workload is terminating.
 */
import type { WorkloadRef } from '../../../src/config/replay.js';
import { resourcePath } from '../../../src/kube/client/api.js';
import type { RuntimeContext } from '../../runtime.js';
import { describeWorkload, waitFor, workloadPath, type WorkloadObject } from '../common.js';
import type { ReplayCluster } from './cluster.js';

export async function waitForOldPodsGone(
  k: ReplayCluster,
  w: WorkloadRef,
  timeoutMs: number,
  ctx: RuntimeContext,
): Promise<void> {
  const obj = await k.api.find<WorkloadObject>(workloadPath(w), ctx.signal);
  const labels = obj?.spec.selector?.matchLabels;
  if (!labels || Object.keys(labels).length === 0) return; // matchExpressions only: nothing to list by
  const selector = Object.entries(labels)
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
  await waitFor(
    `the replaced pods of ${describeWorkload(w)} to go`,
    async () => {
      const pods = await k.api.list<{ metadata?: { name?: string; deletionTimestamp?: string } }>(
        resourcePath('Pod', w.namespace),
        selector,
        ctx.signal,
      );
      const going = pods.items.filter((p) => p.metadata?.deletionTimestamp).map((p) => p.metadata?.name);
      return going.length ? { waiting: `terminating: ${going.join(', ')}` } : { done: undefined };
    },
    { timeoutMs },
    ctx,
  );
}
