/**
 * The replay test config: one JSON/YAML object, the same shape as replayWorkflow's input
 * (a `--config FILE` on the CLI, a TrafficReplay spec in a cluster). Validated at every
 * boundary; errors carry the field path.
 */
import { z } from 'zod';
import { parseDuration } from '../base/duration.js';
import { SafeId } from '../base/ids.js';

export const DurationText = z.string().refine((v) => parseDuration(v) !== undefined, {
  message: 'expected a duration such as 500ms, 30s, 5m, 1h',
});

/** `2x`, `0.5x` or a bare number: multiplies recorded timing (2x = twice as fast). */
export const SpeedText = z
  .union([
    z.string().regex(/^\d+(\.\d+)?x?$/, 'expected a multiplier such as 2x or 0.5x'),
    z.number().positive(),
  ])
  .transform((v) => (typeof v === 'number' ? v : parseFloat(v)))
  .refine((v) => v > 0, { message: 'expected a multiplier above 0' });

/** More generators than this is more processes or pods than one replay should start. */
export const MAX_GENERATOR_REPLICAS = 64;

export const LoadConfig = z
  .object({
    rate: z
      .number()
      .positive()
      .describe('Requests per second across all connections; absent = as fast as the connections allow.')
      .optional(),
    speed: SpeedText.describe(
      'Replay with recorded inter-request timing, multiplied (2x = twice as fast). Exclusive with rate.',
    ).optional(),
    connections: z
      .number()
      .int()
      .min(1)
      .max(10_000)
      .describe('Concurrent connections (virtual users); default 10.')
      .default(10),
    duration: DurationText.describe(
      'Run as many passes as fit in this duration; absent = `passes` passes.',
    ).optional(),
    passes: z.number().int().min(1).describe('Passes over the recorded traffic; default 1.').default(1),
    rampUp: DurationText.describe('Ramp the rate (or connections) up linearly over this time.').optional(),
    timeout: DurationText.describe('Per-request timeout; default 10s.').default('10s'),
    include: z
      .array(z.string())
      .describe('Only replay inbound pairs whose path matches one of these globs (default: all).')
      .optional(),
    replicas: z
      .number()
      .int()
      .min(1)
      .max(MAX_GENERATOR_REPLICAS)
      .describe(
        'Generators sending together, each a shard of the recording (every request once per pass); rate and connections are split between them. Default 1.',
      )
      .default(1),
  })
  .refine((l) => !(l.rate !== undefined && l.speed !== undefined), {
    message: 'rate and speed are exclusive: give one',
    path: ['speed'],
  });
export type LoadConfig = z.infer<typeof LoadConfig>;

export const Transform = z.discriminatedUnion('type', [
  /** Set (or remove, with value null) a request header. */
  z.object({ type: z.literal('header'), name: z.string().min(1), value: z.string().nullable() }),
  /** Send to this host[:port] instead of the recorded one (Host header rewritten). */
  z.object({ type: z.literal('host'), value: z.string().min(1) }),
  /** Shift recorded timestamps in headers/query/body by (now - capture time). */
  z.object({
    type: z.literal('date-shift'),
    /** Where to look; default all. */
    in: z.array(z.enum(['headers', 'query', 'body'])).optional(),
  }),
  /** Replace every occurrence of a recorded token with a value (from a variable or env). */
  z.object({
    type: z.literal('replace'),
    find: z.string().min(1),
    /** Literal value, or `${env:NAME}` / `${var:NAME}`. */
    with: z.string(),
  }),
  /** Re-sign JWTs found in Authorization headers (and optional header names) with this key; iat/exp rewritten. */
  z.object({
    type: z.literal('jwt-resign'),
    /** HMAC secret (HS256) or PEM private key (RS256), or `${env:NAME}`. */
    key: z.string().min(1),
    algorithm: z.enum(['HS256', 'HS384', 'HS512', 'RS256']).default('HS256'),
    headers: z.array(z.string()).default(['authorization']),
    /** New lifetime from now; default keeps the recorded exp - iat. */
    ttl: DurationText.optional(),
  }),
]);
export type Transform = z.infer<typeof Transform>;

export const Assertions = z.object({
  status: z.boolean().describe('Compare status codes; default true.').default(true),
  headers: z
    .array(z.string())
    .describe('Response headers whose values must match (names, case-insensitive); default content-type.')
    .default(['content-type']),
  body: z
    .object({
      enabled: z.boolean().describe('Compare bodies; default true.').default(true),
      ignore: z
        .array(z.string())
        .describe('JSON paths ignored in the comparison, e.g. `$.createdAt`, `$.items[*].id`.')
        .default([]),
      autoNoise: z
        .boolean()
        .describe(
          'Detect and ignore volatile fields (timestamps, uuids, values that differ between recordings).',
        )
        .default(true),
      forceCompare: z.array(z.string()).describe('Fields compared even when they look volatile.').default([]),
    })
    .prefault({}),
});
export type Assertions = z.infer<typeof Assertions>;

export const Goals = z.object({
  successRate: z
    .number()
    .min(0)
    .max(100)
    .describe('Minimum % of requests with a response and a non-5xx status.')
    .optional(),
  assertionPassRate: z
    .number()
    .min(0)
    .max(100)
    .describe('Minimum % of requests whose assertions all passed.')
    .optional(),
  p50Ms: z.number().positive().describe('Maximum median latency, ms.').optional(),
  p95Ms: z.number().positive().describe('Maximum 95th percentile latency, ms.').optional(),
  p99Ms: z.number().positive().describe('Maximum 99th percentile latency, ms.').optional(),
  minRps: z.number().positive().describe('Minimum requests per second achieved.').optional(),
});
export type Goals = z.infer<typeof Goals>;

export const ResponderConfig = z.object({
  missPolicy: z
    .enum(['404', 'passthrough'])
    .describe('What a request with no recorded match gets; default 404.')
    .default('404'),
  exhausted: z
    .enum(['repeat-last', 'cycle'])
    .describe(
      'After the recorded responses for a signature are used up: repeat the last (default), or cycle.',
    )
    .default('repeat-last'),
  latency: z
    .union([z.literal('none'), z.literal('recorded'), z.object({ fixedMs: z.number().nonnegative() })])
    .describe('Delay before each answer: none (default), recorded, or {fixedMs: N}.')
    .default('none'),
  ignore: z
    .object({
      query: z.array(z.string()).default([]),
      body: z.array(z.string()).default([]),
    })
    .describe('Request parts left out of the signature: query params, JSON body paths.')
    .prefault({}),
});
export type ResponderConfig = z.infer<typeof ResponderConfig>;

export const ReplayMode = z.enum(['full-replay', 'generator-only', 'responder-only']);
export type ReplayMode = z.infer<typeof ReplayMode>;

/** How Reprise starts the service under test itself (`--app "cmd"`), locally. */
export const AppConfig = z.object({
  /** Shell command; it must listen on the target URL's port (also given to it as PORT). */
  command: z.string().min(1),
  cwd: z.string().optional(),
  env: z.record(z.string(), z.string()).default({}),
  /** Path polled on the target until it answers (any HTTP status) before the generator starts. */
  readyPath: z.string().startsWith('/').default('/'),
  readyTimeout: DurationText.default('30s'),
});
export type AppConfig = z.infer<typeof AppConfig>;

/** DNS-1123 label/subdomain, as Kubernetes names objects. */
export const KubeName = z
  .string()
  .max(253)
  .regex(
    /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/,
    'expected a Kubernetes name (lowercase letters, digits, - and .)',
  );

/**
 * The service under test as a Kubernetes workload (the Kubernetes runtime): its outbound traffic is
 * routed to the responder for the replay and restored exactly afterwards.
 */
export const WorkloadRef = z.strictObject({
  apiVersion: z.literal('apps/v1').default('apps/v1'),
  kind: z.enum(['Deployment', 'StatefulSet', 'DaemonSet']).default('Deployment'),
  name: KubeName,
  namespace: KubeName.default('default'),
  /** The container whose outbound traffic goes to the responder; default: the first one. */
  container: z.string().min(1).optional(),
  /** The Service the generator sends to; default: a Service named like the workload. */
  service: KubeName.optional(),
  /** The Service port; default: its first port. */
  port: z.number().int().min(1).max(65535).optional(),
  /**
   * How the app's outbound calls reach the responder: `proxy` (default) sets HTTP_PROXY/HTTPS_PROXY;
   * `hostalias` points the recorded hosts at the responder's Service (ports 80 and 443).
   */
  routing: z.enum(['proxy', 'hostalias']).optional(),
});
export type WorkloadRef = z.output<typeof WorkloadRef>;

/**
 * The replay config: the `--config FILE` shape and replayWorkflow's input. Flags given on the
 * CLI override the file's values.
 */
export const ReplayInput = z
  .object({
    /** Names the replay's folder in the store; default: the workflow id. */
    replayId: SafeId.optional(),
    snapshotId: z.string().min(1),
    target: z.object({
      /** Base URL of the service under test: where the generator sends the recorded requests. */
      url: z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }).optional(),
      app: AppConfig.optional(),
      workload: WorkloadRef.optional(),
    }),
    mode: ReplayMode.default('full-replay'),
    load: LoadConfig.prefault({}),
    transforms: z.array(Transform).default([]),
    assertions: Assertions.prefault({}),
    goals: Goals.default({}),
    responder: ResponderConfig.prefault({}),
    /** responder-only: how long the mocks stay up (default: until cancelled or the timeout). */
    responderDuration: DurationText.optional(),
    /** What teardown removes: what this replay created (inventory), also its data (all), or nothing. */
    cleanup: z.enum(['inventory', 'all', 'none']).default('inventory'),
    /** The whole replay, teardown excluded. */
    timeout: DurationText.default('30m'),
  })
  .refine((r) => r.mode === 'responder-only' || r.target.url !== undefined || r.target.workload, {
    message: 'required unless mode is responder-only or target.workload is given',
    path: ['target', 'url'],
  })
  .refine((r) => !(r.target.app && r.target.workload), {
    message: 'app and workload are exclusive: Reprise starts a local app, or routes a cluster workload',
    path: ['target', 'workload'],
  });
export type ReplayInput = z.infer<typeof ReplayInput>;
export type ReplayInputText = z.input<typeof ReplayInput>;

export const REPLAY_PHASES = [
  'Initializing',
  'Testing',
  'Analyzing',
  'Passed',
  'Missed Goals',
  'Error',
  'Canceled',
] as const;
export type ReplayPhase = (typeof REPLAY_PHASES)[number];
export type ReplayVerdict = Extract<ReplayPhase, 'Passed' | 'Missed Goals' | 'Error' | 'Canceled'>;

export interface ReplayProgress {
  phase: ReplayPhase;
  sent: number;
  done: number;
  errors: number;
  /** Requests in one pass of the snapshot's inbound traffic, when known. */
  total?: number;
  responder?: { match: number; noMatch: number; passthrough: number };
}

/** replayWorkflow's result; the CLI's --json output is this object. */
export interface ReplayResult {
  replayId: string;
  workflowId: string;
  verdict: ReplayVerdict;
  reportPath: string;
  requests: number;
  errors: number;
  responder: { match: number; noMatch: number; passthrough: number };
}

/** A scheduled regression check: a replay compared with a baseline replay of the same config. */
export const RegressionInput = z.object({
  /** Names the baseline; default: the schedule id (or the snapshot id). */
  key: SafeId.optional(),
  replay: ReplayInput,
  /** A replay id to compare with; default: the first passing run for this key. */
  baselineReplayId: z.string().optional(),
  thresholds: z
    .object({
      /** p95 and p99 may grow by at most this % over the baseline. */
      latencyIncreasePct: z.number().nonnegative().default(25),
      /** The error rate may grow by at most this many percentage points. */
      errorRateIncrease: z.number().nonnegative().default(1),
      /** The assertion pass rate may fall by at most this many percentage points. */
      accuracyDecrease: z.number().nonnegative().default(0),
    })
    .prefault({}),
});
export type RegressionInput = z.infer<typeof RegressionInput>;

export type RegressionVerdict = 'Passed' | 'Regressed' | 'Missed Goals' | 'Error' | 'Canceled';

export interface RegressionCheck {
  name: 'p95' | 'p99' | 'errorRate' | 'accuracy';
  baseline: number;
  actual: number;
  /** The largest acceptable actual value (for accuracy: the smallest). */
  limit: number;
  passed: boolean;
}

export interface RegressionResult {
  verdict: RegressionVerdict;
  replay: ReplayResult;
  /** The replay compared with; this run's own id when it became the baseline. */
  baselineReplayId?: string;
  /** `set`: this passing run became the baseline; `none`: no baseline yet (the replay did not pass). */
  baseline: 'set' | 'compared' | 'none';
  checks: RegressionCheck[];
}
