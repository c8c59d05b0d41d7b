/**
 * captureWorkflow's input: one schema for the workflow, the CLI flags and any client. The
 * workflow validates with it before anything starts, so this module and its imports must stay
 * free of Node APIs (they are bundled into the workflow sandbox).
 */
import { z } from 'zod';
import { DlpRules } from '../dlp/rules.js';
import { FilterRules } from '../filters/rules.js';
import { parseDuration } from '../base/duration.js';
import { describeZodIssues } from '../base/issues.js';
import { DurationText, WorkloadRef } from './replay.js';
import { SafeId, ServiceName } from '../base/ids.js';

const Port = z.number().int().min(1).max(65535);

const SnapshotId = SafeId;

export const CaptureTarget = z
  .strictObject({
    /** The app's own port; the sidecar forwards inbound traffic there. Optional with a workload (its first containerPort). */
    appPort: Port.optional(),
    appHost: z.string().min(1).default('127.0.0.1'),
    /** Where clients send traffic instead of appPort; 0 = any free port (see the progress query). */
    inPort: z.number().int().min(0).max(65535).default(4143),
    /** The app's HTTP_PROXY; 0 = any free port, -1 = no outbound capture. */
    outPort: z.number().int().min(-1).max(65535).default(4140),
    /** Decrypt CONNECT tunnels with the Reprise CA; off = tunnels recorded as opaque pairs. */
    tlsIntercept: z.boolean().default(false),
    /** A Kubernetes workload to capture (the Kubernetes runtime annotates it for the sidecar webhook). */
    workload: WorkloadRef.optional(),
  })
  .refine((t) => t.appPort !== undefined || t.workload !== undefined, {
    message: 'required unless target.workload is given',
    path: ['appPort'],
  });
export type CaptureTarget = z.output<typeof CaptureTarget>;

export const CaptureInputSchema = z.strictObject({
  /** Workload name; recorded on every pair and the snapshot. */
  service: ServiceName.default('app'),
  target: CaptureTarget,
  /** Absent: capture until the `stop` signal. */
  duration: DurationText.refine((d) => parseDuration(d) !== 0, 'expected a duration above 0').optional(),
  /** Absent: generated (`snap-<time>-<hex>`). */
  snapshotId: SnapshotId.optional(),
  /** null is accepted as "not given" so JSON written by other tools round-trips. */
  filters: FilterRules.nullish(),
  /** Rules for masking secrets before they are stored; `false` records without masking. */
  dlp: z.union([DlpRules, z.literal(false)]).nullish(),
  /** Recorded bodies are cut (and marked truncated) past this size. */
  maxBodyBytes: z.number().int().positive().optional(),
});

/** What a caller sends (defaults may be left out). */
export type CaptureInput = z.input<typeof CaptureInputSchema>;
/** The validated input with defaults applied. */
export type CaptureConfig = z.output<typeof CaptureInputSchema>;

export class CaptureInputError extends Error {
  constructor(
    message: string,
    /** Field paths such as `target.appPort`. */
    readonly fields: string[],
  ) {
    super(message);
    this.name = 'CaptureInputError';
  }
}

interface FieldIssue {
  path: PropertyKey[];
  message: string;
}

/**
 * Issues at the field they concern: an unknown key at its own path (so `durations` names
 * itself), and a union (`dlp`: rules or false) by the branch that got furthest into the value.
 */
function fieldIssues(issues: readonly z.core.$ZodIssue[], base: PropertyKey[] = []): FieldIssue[] {
  return issues.flatMap((i): FieldIssue[] => {
    const path = [...base, ...i.path];
    if (i.code === 'unrecognized_keys')
      return i.keys.map((key) => ({ path: [...path, key], message: 'unknown field' }));
    if (i.code === 'invalid_union' && i.errors.length) {
      const depth = (branch: readonly z.core.$ZodIssue[]) => Math.max(0, ...branch.map((e) => e.path.length));
      const best = i.errors.reduce((a, b) => (depth(b) > depth(a) ? b : a));
      if (depth(best) > 0) return fieldIssues(best, path);
      return [{ path, message: i.errors.map((branch) => branch[0]?.message).join(', or ') }];
    }
    return [{ path, message: i.message }];
  });
}

/** Validates without I/O; a bad field fails with its path and what was expected. */
export function validateCaptureInput(input: unknown): CaptureConfig {
  const parsed = CaptureInputSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issues = fieldIssues(parsed.error.issues);
  throw new CaptureInputError(`invalid capture input: ${describeZodIssues(issues)}`, [
    ...new Set(issues.map((i) => i.path.map(String).join('.'))),
  ]);
}

/** Milliseconds of a validated config's duration, or undefined (until stopped). */
export function captureDurationMs(config: CaptureConfig): number | undefined {
  return config.duration === undefined ? undefined : parseDuration(config.duration);
}

/** What a recording holds so far, or in the end (the forwarder's counts). */
export interface CaptureCounts {
  pairs: number;
  inbound: number;
  outbound: number;
  /** Uncompressed NDJSON bytes stored. */
  bytes: number;
  /** Pairs lost (sidecar buffer full, forwarder refused); not the ones filtered on purpose. */
  dropped: number;
  /** Pairs excluded on purpose by filters. */
  filtered: number;
}

/** What captureWorkflow reports while it runs (the `progress` query) and when it ends. */
export type CapturePhase = 'starting' | 'capturing' | 'stopping' | 'sealing' | 'done' | 'failed' | 'canceled';

export interface CaptureProgress {
  phase: CapturePhase;
  snapshotId: string | null;
  pairs: number;
  dropped: number;
  bytes: number;
  startedAt: string;
  /** Where clients send traffic (null until the capture is enabled). */
  inPort: number | null;
  /** The app's HTTP_PROXY port; -1 when outbound capture is off. */
  outPort: number | null;
}

export interface CaptureResult {
  snapshotId: string;
  pairs: number;
  /** Pairs lost (sidecar buffer full, forwarder refused). */
  dropped: number;
  /** Pairs left out on purpose by the filters. */
  filtered: number;
  bytes: number;
  inbound: number;
  outbound: number;
  workflowId: string;
  startedAt: string;
  endedAt: string;
}
