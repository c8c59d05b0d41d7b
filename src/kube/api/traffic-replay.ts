/**
 * The TrafficReplay custom resource (replay.reprise.dev/v1alpha1): its TypeScript shape, the
 * zod schemas of its spec and status (the CRD in charts/reprise/crds/ is generated from them:
 * `npm run gen:crd`; their descriptions are the CRD's), the defaults the mutating webhook
 * fills, and toReplayInput(), which turns a resource into replayWorkflow's input. Field names
 * follow what Speedscale users know (snapshotId, mode, cleanup, workloads[].ref, customURL,
 * tests, mocks); the test config mirrors ReplayInput.
 */
import { z } from 'zod';
import { describeZodIssues } from '../../base/issues.js';
import { SafeId, toSafeId } from '../../base/ids.js';
import {
  Assertions,
  DurationText,
  Goals,
  LoadConfig,
  MAX_GENERATOR_REPLICAS,
  ReplayInput,
  ReplayMode,
  ResponderConfig,
  Transform,
  type ReplayInputText,
  type WorkloadRef,
  KubeName,
  REPLAY_PHASES,
  type ReplayVerdict,
} from '../../config/replay.js';
import type { JsonPatchOp } from './json-patch.js';

export const TrafficReplayRef = z
  .strictObject({
    apiVersion: z.literal('apps/v1').optional(),
    kind: z.enum(['Deployment', 'StatefulSet', 'DaemonSet']).describe('Default Deployment.').optional(),
    name: KubeName,
    namespace: KubeName.describe("Default the TrafficReplay's namespace.").optional(),
    container: z
      .string()
      .min(1)
      .describe('The container whose outbound traffic goes to the responder; default the first.')
      .optional(),
    service: KubeName.describe(
      'The Service the generator sends to; default one named like the workload.',
    ).optional(),
    port: z.number().int().min(1).max(65535).describe('The Service port; default its first.').optional(),
  })
  .describe('The workload whose outbound traffic is routed to the responder and restored afterwards.');

/** `*` means all; anything else is refused until per-endpoint selection exists for mocks. */
const Selection = z.array(z.string().min(1));

export const TrafficReplayWorkload = z
  .strictObject({
    ref: TrafficReplayRef.optional(),
    customURL: z
      .url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' })
      .describe("Send the traffic to this URL instead of the workload's Service.")
      .optional(),
    tests: Selection.describe(
      'Recorded inbound requests to replay, as path globs; ["*"] (default) is all.',
    ).optional(),
    mocks: Selection.describe(
      'Recorded outbound calls the responder answers; ["*"] (default) is all, [] none.',
    ).optional(),
    routing: z
      .enum(['env', 'hostalias'])
      .describe('How the workload reaches the responder, proxy env vars (env, default) or host aliases.')
      .optional(),
  })
  .refine((w) => w.ref !== undefined || w.customURL !== undefined, {
    message: 'give ref (a workload) or customURL (a URL to send the traffic to)',
    path: ['ref'],
  });

export const TrafficReplaySpec = z.strictObject({
  snapshotId: SafeId.describe('The snapshot to replay (`reprise snapshot ls`).'),
  mode: ReplayMode.describe(
    'full-replay: traffic and mocks; generator-only: traffic, real dependencies; responder-only: mocks only. Default full-replay.',
  ).optional(),
  cleanup: z
    .enum(['inventory', 'all', 'none'])
    .describe(
      'What teardown removes: what the replay created (inventory, default), also its data (all), or nothing (none).',
    )
    .optional(),
  timeout: DurationText.describe('The whole replay, teardown excluded, e.g. 30m (default).').optional(),
  ttlAfterReady: DurationText.describe(
    'Delete this TrafficReplay this long after it finished, e.g. 1h; absent keeps it.',
  ).optional(),
  workloads: z
    .array(TrafficReplayWorkload)
    .max(1, 'at most one workload per replay')
    .describe('The service under test (one).')
    .optional(),
  load: LoadConfig.optional(),
  generator: z
    .strictObject({
      replicas: z
        .int()
        .min(1)
        .max(MAX_GENERATOR_REPLICAS)
        .describe(
          'Generator Jobs sending together, each a shard of the recording (every request once per pass), the rate and connections split between them; one report. Default 1.',
        )
        .optional(),
    })
    .describe('How the load is sent.')
    .optional(),
  assertions: Assertions.optional(),
  goals: Goals.optional(),
  responder: ResponderConfig.optional(),
  responderDuration: DurationText.describe(
    'responder-only mode, how long the mocks stay up (default until deleted or the timeout).',
  ).optional(),
  transforms: z.array(Transform).optional(),
});
export type TrafficReplaySpec = z.input<typeof TrafficReplaySpec>;

const VERDICTS = ['Passed', 'Missed Goals', 'Error', 'Canceled'] as const satisfies readonly ReplayVerdict[];

/** Timestamps the controller writes (RFC 3339, as Kubernetes stores them). */
const Time = z.iso.datetime({ offset: true });

/** A status condition, as metav1.Condition defines it (its limits too). */
export const Condition = z.strictObject({
  type: z.string().max(316),
  status: z.enum(['True', 'False', 'Unknown']),
  reason: z.string().max(1024),
  message: z.string().max(32768),
  lastTransitionTime: Time,
  observedGeneration: z.int().nonnegative().meta({ format: 'int64' }).optional(),
});
export type Condition = z.infer<typeof Condition>;

/** Written by the controller only (the status subresource). */
export const TrafficReplayStatus = z.strictObject({
  phase: z.enum(REPLAY_PHASES).optional(),
  active: z.boolean().describe('True while the workflow runs.').optional(),
  verdict: z.enum(VERDICTS).optional(),
  message: z.string().describe('Why it failed, or what the controller is waiting for.').optional(),
  conditions: z
    .array(Condition)
    .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] })
    .optional(),
  startedTime: Time.optional(),
  initializedTime: Time.optional(),
  finishedTime: Time.optional(),
  reportId: z.string().optional(),
  reportPath: z.string().optional(),
  workflowId: z.string().optional(),
  observedGeneration: z.int().meta({ format: 'int64' }).optional(),
  reconcileFailures: z.int().nonnegative().optional(),
  progress: z
    .strictObject({ sent: z.int(), done: z.int(), errors: z.int(), total: z.int().optional() })
    .optional(),
});
export type TrafficReplayStatus = z.infer<typeof TrafficReplayStatus>;

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
    load: {
      ...spec.load,
      ...(include !== undefined ? { include } : {}),
      ...(spec.generator?.replicas !== undefined ? { replicas: spec.generator.replicas } : {}),
    },
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
