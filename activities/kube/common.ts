/**
 * What the Kubernetes runtimes share: deterministic object names and labels, bounded waits that
 * heartbeat and honour cancellation, and the workload helpers (path, rollout state).
 */
import { createHash } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { WorkloadRef } from '../../src/config/replay.js';
import { isNotFound, resourcePath, type KubeApi, type KubeObject } from '../../src/kube/client/api.js';
import { LABELS, MANAGED_BY } from '../../src/kube/api/annotations.js';
import { RuntimeError, type RuntimeContext } from '../runtime.js';

/** The id part of object names and label values: lowercase DNS-1123, at most 40 characters. */
export function shortId(id: string): string {
  const cleaned = id
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^-+|-+$/g, '');
  if (cleaned === id && id.length <= 40) return id;
  // Changed or long: a hash keeps two ids that clean up alike apart.
  const hash = createHash('sha256').update(id).digest('hex').slice(0, 8);
  return `${cleaned.slice(0, 31).replace(/-+$/, '')}-${hash}`.replace(/^-/, '');
}

/** `reprise-<component>-<short id>`: at most 63 characters, the same for every retry and worker. */
export const objectName = (component: string, id: string) => `reprise-${component}-${shortId(id)}`;

/** The labels every object created for a replay carries (cleanup selects on the replay id). */
export function replayLabels(replayId: string, component: string): Record<string, string> {
  return {
    [LABELS.managedBy]: MANAGED_BY,
    [LABELS.component]: component,
    [LABELS.replayId]: shortId(replayId),
  };
}

export const replaySelector = (replayId: string) => `${LABELS.replayId}=${shortId(replayId)}`;

/** One check of a wait: the value when done, else what it is still waiting for. */
export type Check<T> = { done: T } | { waiting: string };

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
}

/**
 * Polls `check` until it is done, heartbeating; bounded by the timeout (retryable error naming
 * `what` and the last state) and by cancellation.
 */
export async function waitFor<T>(
  what: string,
  check: () => Promise<Check<T>>,
  opts: WaitOptions,
  ctx: RuntimeContext,
): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  let last = 'not checked yet';
  for (;;) {
    cancelled(ctx, what);
    const c = await check();
    if ('done' in c) return c.done;
    last = c.waiting;
    if (Date.now() >= deadline) {
      throw new RuntimeError(`${what}: not done within ${opts.timeoutMs} ms (${last})`, 'Timeout', true);
    }
    ctx.heartbeat();
    await delay(opts.intervalMs ?? 500, undefined, { signal: ctx.signal }).catch(() => undefined);
  }
}

export function cancelled(ctx: RuntimeContext, what: string): void {
  if (ctx.signal.aborted) throw new RuntimeError(`${what}: cancelled`, 'Cancelled', true);
}

export const workloadPath = (w: WorkloadRef) => resourcePath(w.kind, w.namespace, w.name);
export const describeWorkload = (w: WorkloadRef) => `${w.kind} ${w.namespace}/${w.name}`;

/** The workload, or a non-retryable error naming `field` when it does not exist. */
export async function readWorkload(
  api: KubeApi,
  w: WorkloadRef,
  field: string,
  ctx: RuntimeContext,
): Promise<WorkloadObject> {
  try {
    return await api.get<WorkloadObject>(workloadPath(w), ctx.signal);
  } catch (err) {
    if (isNotFound(err)) throw new RuntimeError(`${field}: ${describeWorkload(w)} not found`, 'InvalidInput');
    throw err;
  }
}

export interface PodTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: {
    containers: { name: string; env?: { name: string; value?: string }[]; [k: string]: unknown }[];
    [k: string]: unknown;
  };
}

export interface WorkloadObject extends KubeObject {
  spec: {
    replicas?: number;
    selector?: { matchLabels?: Record<string, string> };
    template: PodTemplate;
    updateStrategy?: { type?: string };
    [k: string]: unknown;
  };
  status?: Record<string, number | string | undefined>;
}

/** Undefined when the workload's latest template is rolled out and available, else what is missing. */
export function rolloutPending(w: WorkloadObject): string | undefined {
  const s = w.status ?? {};
  const num = (k: string) => (typeof s[k] === 'number' ? (s[k] as number) : 0);
  if (num('observedGeneration') < (w.metadata?.generation ?? 0))
    return 'the controller has not seen the change yet';
  if (w.kind === 'DaemonSet') {
    const desired = num('desiredNumberScheduled');
    if (num('updatedNumberScheduled') < desired)
      return `${num('updatedNumberScheduled')}/${desired} pods updated`;
    if (num('numberAvailable') < desired) return `${num('numberAvailable')}/${desired} pods available`;
    return undefined;
  }
  const replicas = w.spec.replicas ?? 1;
  if (num('updatedReplicas') < replicas) return `${num('updatedReplicas')}/${replicas} replicas updated`;
  if (w.kind === 'StatefulSet') {
    if (w.spec.updateStrategy?.type !== 'OnDelete' && s.updateRevision !== s.currentRevision) {
      return 'the update revision is not current yet';
    }
    if (num('availableReplicas') < replicas)
      return `${num('availableReplicas')}/${replicas} replicas available`;
    return undefined;
  }
  if (num('replicas') > num('updatedReplicas'))
    return `${num('replicas') - num('updatedReplicas')} old replicas pending termination`;
  if (num('availableReplicas') < num('updatedReplicas'))
    return `${num('availableReplicas')}/${replicas} replicas available`;
  return undefined;
}

/** Waits until the workload's current template is rolled out (heartbeating, bounded). */
export function waitForRollout(
  api: KubeApi,
  w: WorkloadRef,
  timeoutMs: number,
  ctx: RuntimeContext,
): Promise<void> {
  return waitFor(
    `rollout of ${describeWorkload(w)}`,
    async () => {
      const obj = await api.find<WorkloadObject>(workloadPath(w), ctx.signal);
      if (!obj) return { done: undefined }; // deleted meanwhile: nothing left to roll out
      const pending = rolloutPending(obj);
      return pending ? { waiting: pending } : { done: undefined };
    },
    { timeoutMs },
    ctx,
  );
}

/** The index of the container `name`, or the first one; a missing name fails naming `field`. */
export function containerIndex(template: PodTemplate, name: string | undefined, field: string): number {
  if (name === undefined) return 0;
  const i = template.spec.containers.findIndex((c) => c.name === name);
  if (i < 0) {
    const names = template.spec.containers.map((c) => c.name).join(', ');
    throw new RuntimeError(`${field}: no container "${name}" (the pod has ${names})`, 'InvalidInput');
  }
  return i;
}
