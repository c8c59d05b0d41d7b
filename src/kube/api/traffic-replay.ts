/**
 * The TrafficReplay custom resource (replay.reprise.dev/v1alpha1): its TypeScript shape, the
 * zod schema of its spec (the CRD's OpenAPI schema says the same in charts/reprise/crds/), the
 * defaults the mutating webhook fills, and toReplayInput(), which turns a resource into
 * replayWorkflow's input. Field names follow what Speedscale users know (snapshotId, mode,
 * cleanup, workloads[].ref, customURL, tests, mocks); the test config mirrors ReplayInput.
 */
import { z } from 'zod';
import { describeZodIssues } from '../../base/issues.js';
import { SafeId, toSafeId } from '../../base/ids.js';
import {
  Assertions,
  DurationText,
  Goals,
  LoadConfig,
  ReplayInput,
  ReplayMode,
  ResponderConfig,
  Transform,
  type ReplayInputText,
  type WorkloadRef,
  KubeName,
  type ReplayPhase,
  type ReplayVerdict,
} from '../../config/replay.js';
import type { JsonPatchOp } from './json-patch.js';

export const TrafficReplayRef = z.strictObject({
  apiVersion: z.literal('apps/v1').optional(),
  kind: z.enum(['Deployment', 'StatefulSet', 'DaemonSet']).optional(),
  name: KubeName,
  /** Default: the TrafficReplay's namespace. */
  namespace: KubeName.optional(),
  container: z.string().min(1).optional(),
  service: KubeName.optional(),
  port: z.number().int().min(1).max(65535).optional(),
});

/** `*` means all; anything else is refused until per-endpoint selection exists for mocks. */
const Selection = z.array(z.string().min(1));

export const TrafficReplayWorkload = z
  .strictObject({
    ref: TrafficReplayRef.optional(),
    /** Where the generator sends the traffic, instead of the workload's Service. */
    customURL: z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }).optional(),
    /** Which recorded inbound requests to replay: path globs, `*` = all (default). */
    tests: Selection.optional(),
    /** Which recorded outbound calls the responder answers: `*` = all (default); [] = no mocks. */
    mocks: Selection.optional(),
    /** How the workload's outbound traffic reaches the responder. */
    routing: z.enum(['env', 'hostalias']).optional(),
  })
  .refine((w) => w.ref !== undefined || w.customURL !== undefined, {
    message: 'give ref (a workload) or customURL (a URL to send the traffic to)',
    path: ['ref'],
  });

export const TrafficReplaySpec = z.strictObject({
  snapshotId: SafeId,
  mode: ReplayMode.optional(),
  cleanup: z.enum(['inventory', 'all', 'none']).optional(),
  /** The whole replay, teardown excluded. */
  timeout: DurationText.optional(),
  /** Delete the TrafficReplay this long after it finished; absent: keep it. */
  ttlAfterReady: DurationText.optional(),
  workloads: z.array(TrafficReplayWorkload).max(1, 'at most one workload per replay').optional(),
  load: LoadConfig.optional(),
  assertions: Assertions.optional(),
  goals: Goals.optional(),
  responder: ResponderConfig.optional(),
  /** responder-only: how long the mocks stay up (default: until deleted or the timeout). */
  responderDuration: DurationText.optional(),
  transforms: z.array(Transform).optional(),
});
export type TrafficReplaySpec = z.input<typeof TrafficReplaySpec>;

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

export interface TrafficReplayStatus {
  phase?: ReplayPhase;
  /** True while the workflow runs. */
  active?: boolean;
  verdict?: ReplayVerdict;
  /** Why it failed, or what the controller is waiting for. */
  message?: string;
  conditions?: Condition[];
  startedTime?: string;
  initializedTime?: string;
  finishedTime?: string;
  reportId?: string;
  reportPath?: string;
  workflowId?: string;
  observedGeneration?: number;
  reconcileFailures?: number;
  progress?: { sent: number; done: number; errors: number; total?: number };
}

export interface TrafficReplay {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    generation?: number;
    resourceVersion?: string;
    finalizers?: string[];
    deletionTimestamp?: string | Date;
    creationTimestamp?: string | Date;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: TrafficReplaySpec;
  status?: TrafficReplayStatus;
}

export const DEFAULTS = {
  mode: 'full-replay',
  cleanup: 'inventory',
  timeout: '30m',
  kind: 'Deployment',
} as const;

/** `spec.workloads[0].ref.name`: the path the way kubectl prints it. */
export function fieldPath(path: readonly PropertyKey[]): string {
  return path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`))
    .join('');
}

/** describeZodIssues with kubectl's path style, under `spec`. */
export function describeSpecIssues(
  issues: readonly { path: readonly PropertyKey[]; message: string }[],
): string {
  return describeZodIssues(
    issues.map((i) => ({ message: i.message, path: i.path.length ? [fieldPath(i.path)] : [] })),
    'spec',
  );
}

/** What the mutating webhook fills in: the spec as stored has every default spelled out. */
export function defaultsPatch(spec: TrafficReplaySpec, namespace: string): JsonPatchOp[] {
  const ops: JsonPatchOp[] = [];
  if (spec.mode === undefined) ops.push({ op: 'add', path: '/spec/mode', value: DEFAULTS.mode });
  if (spec.cleanup === undefined) ops.push({ op: 'add', path: '/spec/cleanup', value: DEFAULTS.cleanup });
  if (spec.timeout === undefined) ops.push({ op: 'add', path: '/spec/timeout', value: DEFAULTS.timeout });
  (spec.workloads ?? []).forEach((w, i) => {
    if (!w?.ref || typeof w.ref !== 'object') return;
    const at = `/spec/workloads/${i}/ref`;
    if (w.ref.apiVersion === undefined) ops.push({ op: 'add', path: `${at}/apiVersion`, value: 'apps/v1' });
    if (w.ref.kind === undefined) ops.push({ op: 'add', path: `${at}/kind`, value: DEFAULTS.kind });
    if (w.ref.namespace === undefined) ops.push({ op: 'add', path: `${at}/namespace`, value: namespace });
    if (w.routing === undefined) ops.push({ op: 'add', path: `/spec/workloads/${i}/routing`, value: 'env' });
  });
  return ops;
}

/** `<name>-<uid>`: unique per resource (a re-created one gets a new uid), a safe store folder name. */
export function replayIdOf(cr: Pick<TrafficReplay, 'metadata'>): string {
  const uid = cr.metadata.uid ?? '';
  return toSafeId(`${cr.metadata.name.slice(0, 127 - uid.length)}-${uid}`);
}

const ROUTING: Record<'env' | 'hostalias', WorkloadRef['routing']> = { env: 'proxy', hostalias: 'hostalias' };

const ALL = (sel: string[] | undefined) => sel === undefined || (sel.length === 1 && sel[0] === '*');

/** The resource as replayWorkflow's input (unparsed: the workflow parses it, and so does validation). */
export function toReplayInput(cr: TrafficReplay): ReplayInputText {
  const spec = cr.spec;
  const w = spec.workloads?.[0];
  const ref = w?.ref;
  const namespace = cr.metadata.namespace ?? 'default';
  const workload = ref && {
    apiVersion: ref.apiVersion ?? 'apps/v1',
    kind: ref.kind ?? DEFAULTS.kind,
    name: ref.name,
    namespace: ref.namespace ?? namespace,
    ...(ref.container !== undefined ? { container: ref.container } : {}),
    ...(ref.service !== undefined ? { service: ref.service } : {}),
    ...(ref.port !== undefined ? { port: ref.port } : {}),
    // `env` in the resource (the proxy variables go into the workload's env) is `proxy` in the input.
    ...(w?.routing !== undefined ? { routing: ROUTING[w.routing] } : {}),
  };
  const include = ALL(w?.tests) ? spec.load?.include : w?.tests;
  return {
    replayId: replayIdOf(cr),
    snapshotId: spec.snapshotId,
    target: {
      ...(w?.customURL !== undefined ? { url: w.customURL } : {}),
      ...(workload ? { workload } : {}),
    },
    mode: spec.mode ?? DEFAULTS.mode,
    load: { ...spec.load, ...(include !== undefined ? { include } : {}) },
    transforms: spec.transforms ?? [],
    assertions: spec.assertions ?? {},
    goals: spec.goals ?? {},
    responder: spec.responder ?? {},
    ...(spec.responderDuration !== undefined ? { responderDuration: spec.responderDuration } : {}),
    cleanup: spec.cleanup ?? DEFAULTS.cleanup,
    timeout: spec.timeout ?? DEFAULTS.timeout,
  } as ReplayInputText;
}

/** Where a ReplayInput field came from in the spec, for error messages. */
function specPathOf(inputPath: readonly PropertyKey[]): PropertyKey[] {
  const [head, second, ...rest] = inputPath;
  if (head === 'target' && second === 'url') return ['workloads', 0, 'customURL'];
  if (head === 'target' && second === 'workload' && rest[0] === 'routing') return ['workloads', 0, 'routing'];
  if (head === 'target' && second === 'workload') return ['workloads', 0, 'ref', ...rest];
  if (head === 'target') return ['workloads', 0];
  return [...inputPath];
}

/**
 * Every check that needs no I/O: the schema, the consistency of mode, tests and mocks, and
 * the workflow input's own schema. Returns one message per problem, each naming its field.
 */
export function checkSpec(spec: unknown): string[] {
  const parsed = TrafficReplaySpec.safeParse(spec);
  if (!parsed.success) return [describeSpecIssues(parsed.error.issues)];
  const s = spec as TrafficReplaySpec;
  const problems: string[] = [];
  const mode = s.mode ?? DEFAULTS.mode;
  const w = s.workloads?.[0];
  if (mode !== 'responder-only' && !w)
    problems.push('spec.workloads: a workload (ref or customURL) is required unless mode is responder-only');
  if (w?.mocks !== undefined) {
    if (mode === 'generator-only' && w.mocks.length > 0)
      problems.push(
        'spec.workloads[0].mocks: generator-only mode starts no responder; remove mocks or change mode',
      );
    else if (mode !== 'generator-only' && w.mocks.length === 0)
      problems.push(
        `spec.workloads[0].mocks: ${mode} needs the responder; give ["*"] or use mode generator-only`,
      );
    else if (w.mocks.length > 0 && !ALL(w.mocks))
      problems.push(
        'spec.workloads[0].mocks: only ["*"] is supported: the responder answers every recorded outbound call',
      );
  }
  if (w?.tests !== undefined) {
    if (mode === 'responder-only' && w.tests.length > 0)
      problems.push(
        'spec.workloads[0].tests: responder-only mode sends no traffic; remove tests or change mode',
      );
    if (!ALL(w.tests) && s.load?.include !== undefined)
      problems.push('spec.workloads[0].tests: give tests or spec.load.include, not both');
  }
  if (s.responderDuration !== undefined && mode !== 'responder-only')
    problems.push('spec.responderDuration: only used in responder-only mode');
  if (problems.length) return problems;
  const input = ReplayInput.safeParse(
    toReplayInput({ apiVersion: '', kind: '', metadata: { name: 'check', uid: 'x' }, spec: s }),
  );
  if (!input.success)
    return [
      describeSpecIssues(input.error.issues.map((i) => ({ message: i.message, path: specPathOf(i.path) }))),
    ];
  return [];
}
