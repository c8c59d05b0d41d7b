/**
 * What a capture (CaptureRuntime) and a replay (ReplayRuntime) need from the place they run. The
 * local runtime (activities/local/) starts processes on this machine; the Kubernetes runtime
 * (activities/kube/) annotates and patches workloads and runs Deployments and Jobs. Workflows
 * only see the activities built on these interfaces (activities/capture.ts, replay.ts), never
 * which runtime runs them.
 *
 * Every method must be idempotent: Temporal retries activities, and a worker may die between
 * doing something and reporting it. Objects are named from the capture or replay id.
 */
import type { CaptureCounts, CaptureTarget } from '../src/config/capture.js';
import type {
  AppConfig,
  LoadConfig,
  ReplayInput,
  ResponderConfig,
  Transform,
  WorkloadRef,
} from '../src/config/replay.js';
import type { GeneratorProgress as GeneratorCounts, GeneratorSummary } from '../src/generator/index.js';
import type { ResponderStats } from '../src/model/replay.js';
import type { DlpRules } from '../src/dlp/rules.js';
import type { Shard } from '../src/config/replicas.js';
import type { FilterRules } from '../src/filters/rules.js';

/** Names one capture's resources. */
export interface CaptureRef {
  /** The workflow id: deterministic names for processes, pid files, workloads. */
  captureId: string;
  snapshotId: string;
}

export interface OpenRecordingRequest extends CaptureRef {
  service: string;
  filters?: FilterRules;
  dlp?: DlpRules | false;
  meta?: Record<string, string>;
}

/** Where sidecars ship pairs for this recording. */
export interface RecordingHandle {
  forwarderUrl: string;
}

export interface EnableCaptureRequest extends CaptureRef {
  service: string;
  target: CaptureTarget;
  recording: RecordingHandle;
  maxBodyBytes?: number;
}

/** The ports actually listening (an ephemeral 0 in the request is resolved here). */
export interface CaptureEndpoints {
  inPort: number;
  outPort: number;
}

export interface CaptureStatus extends CaptureCounts {
  /** False when the capture proxy went away (local: the sidecar exited); enabling again restores it. */
  capturing: boolean;
}

/** What a runtime method may use from its caller (the activity context, or a plain test). */
export interface RuntimeContext {
  /** Call while waiting, so a dead worker is noticed and a live one is not timed out. */
  heartbeat(): void;
  /** Aborted when the activity is cancelled. */
  signal: AbortSignal;
}

/** A failure that retrying cannot fix (bad port, snapshot id taken); `type` names the kind. */
export { RuntimeError } from '../src/base/runtime-error.js';
/** A recording's counts: defined with the capture results (src/config/capture.ts). */
export type { CaptureCounts };

export interface CaptureRuntime {
  /** Starts (or finds) the forwarder for this capture and opens the recording in it. */
  openRecording(req: OpenRecordingRequest, ctx: RuntimeContext): Promise<RecordingHandle>;
  /** Puts the capture proxy in front of the app (local: starts the sidecar). */
  enableCapture(req: EnableCaptureRequest, ctx: RuntimeContext): Promise<CaptureEndpoints>;
  /** Live counts of the open recording, and whether the capture proxy is still in place; quick. */
  captureProgress(ref: CaptureRef, ctx: RuntimeContext): Promise<CaptureStatus>;
  /** Takes the capture proxy away; what it buffered is drained to the forwarder first. */
  disableCapture(ref: CaptureRef, ctx: RuntimeContext): Promise<void>;
  /** Publishes the snapshot; sealing twice returns the same counts. */
  sealSnapshot(ref: CaptureRef, ctx: RuntimeContext): Promise<CaptureCounts>;
  /** Discards an unsealed recording; nothing appears in the store. A missing one is success. */
  abortRecording(ref: CaptureRef, ctx: RuntimeContext): Promise<void>;
  /** Removes everything the capture started (local: the forwarder and any process left). */
  teardown(ref: CaptureRef, ctx: RuntimeContext): Promise<void>;
}

/** Names one replay's resources. */
export interface ReplayRef {
  replayId: string;
}

/** What the workflow's progress query shows of the generator. */
export type GeneratorProgress = Pick<GeneratorCounts, 'sent' | 'done' | 'errors'>;

export interface ComponentLogs {
  name: string;
  lines: string[];
}

export interface GeneratorRequest extends ReplayRef {
  snapshotId: string;
  targetUrl: string;
  /** This generator's load (a replica's part of it: src/config/replicas.ts). */
  load: LoadConfig;
  transforms: Transform[];
  shard?: Shard;
  startAt?: number;
}

/** What a runtime (local processes, Kubernetes objects) must provide for a replay. */
export interface ReplayRuntime {
  startResponder(
    req: ReplayRef & { snapshotId: string; config: ResponderConfig },
    ctx: RuntimeContext,
  ): Promise<{ url: string }>;
  responderStats(req: ReplayRef, ctx: RuntimeContext): Promise<ResponderStats | undefined>;
  stopResponder(req: ReplayRef, ctx: RuntimeContext): Promise<void>;
  startCollector(req: ReplayRef, ctx: RuntimeContext): Promise<void>;
  /** Logs gathered for the report (bounded). */
  collectLogs(req: ReplayRef, ctx: RuntimeContext): Promise<ComponentLogs[]>;
  stopCollector(req: ReplayRef, ctx: RuntimeContext): Promise<void>;
  /**
   * Puts the service under test in place with its outbound traffic aimed at the responder: a
   * local app it starts (`app`), or a cluster workload it patches (`workload`). Returns the URL
   * the generator should use when the input gave none (a workload's Service).
   */
  startApp(
    req: ReplayRef & { app?: AppConfig; workload?: WorkloadRef; targetUrl?: string; responderUrl?: string },
    ctx: RuntimeContext,
  ): Promise<{ targetUrl?: string }>;
  stopApp(req: ReplayRef, ctx: RuntimeContext): Promise<void>;
  /**
   * The app startApp started has ended on its own: how (`code 3`) when known, and the last line
   * it wrote. Undefined while it runs, or when this runtime starts no app.
   */
  appEnded?(req: ReplayRef): Promise<{ how?: string; lastLine?: string } | undefined>;
  /**
   * Runs the load to completion (heartbeating), or until the activity is cancelled. With a
   * `shard`, one of several generators (load.replicas): its own process or pod, sending its
   * share from `startAt` (epoch ms), its results stored as that replica's.
   */
  runGenerator(req: GeneratorRequest, ctx: RuntimeContext): Promise<GeneratorSummary>;
  generatorProgress(
    req: ReplayRef & { shard?: Shard },
    ctx: RuntimeContext,
  ): Promise<GeneratorProgress | undefined>;
  /** Removes what this replay created, per the cleanup policy. */
  cleanup(req: ReplayRef & { cleanup: ReplayInput['cleanup'] }, ctx: RuntimeContext): Promise<void>;
  /** Where the generator streams what it observed (read by the analyzer). */
  observedPath(replayId: string): string;
}
