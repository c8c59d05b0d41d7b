/**
 * The local capture runtime: a capture is a forwarder process and a sidecar process on this machine,
 * described by pid files in `$REPRISE_HOME/run/<captureId>/` so any worker (a retry, or a new
 * worker after a crash) finds and reuses them instead of starting a second pair.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { childLog } from '../../src/base/log.js';
import { projectRoot } from '../../src/base/project-root.js';
import {
  RuntimeError,
  type CaptureCounts,
  type CaptureEndpoints,
  type CaptureRef,
  type CaptureRuntime,
  type CaptureStatus,
  type EnableCaptureRequest,
  type OpenRecordingRequest,
  type RecordingHandle,
  type RuntimeContext,
} from '../runtime.js';
import { workerNodeOptions } from '../../src/base/node-options.js';
import { ForwarderApi } from '../../src/forwarder/client.js';
import { ForwarderReplicas, manifestCounts } from '../../src/forwarder/group.js';
import { openSnapshotStore } from '../../src/store/open.js';
import { ownedAndAlive, readRecord, type ProcessRecord } from './processes.js';
import { Supervisor } from './supervisor.js';

export interface LocalCaptureRuntimeOptions {
  /** REPRISE_HOME: the store, the CA, and the run folders. */
  home: string;
  /** Where `dist/workers/*.js` are; default the project root. */
  root?: string;
  readyTimeoutMs?: number;
  /** The sidecar's --drain-timeout; stopping waits this plus a margin before SIGKILL. */
  drainTimeoutMs?: number;
  /**
   * Forwarder processes per capture (default 1). More than one share the recording (S3 store
   * only): the sidecar ships to the first, other producers may ship to any (forwarderUrls()).
   */
  forwarders?: number;
}

/** `forwarder-1`, `forwarder-2`, ...: the replicas past the first. */
type Component = 'forwarder' | 'sidecar' | `forwarder-${number}`;

const FORWARDER_GRACE_MS = 10_000;
const DRAIN_MARGIN_MS = 5_000;

export class LocalCaptureRuntime implements CaptureRuntime {
  private readonly root: string;
  private readonly readyTimeoutMs: number;
  private readonly drainTimeoutMs: number;
  private readonly log = childLog('local-runtime');
  private readonly supervisor: Supervisor;
  private readonly forwarderNames: Component[];

  constructor(readonly options: LocalCaptureRuntimeOptions) {
    const n = options.forwarders ?? 1;
    if (!Number.isInteger(n) || n < 1 || n > 16)
      throw new RuntimeError(`forwarders: expected 1-16 forwarder processes, got ${n}`, 'InvalidInput');
    this.forwarderNames = Array.from({ length: n }, (_, i): Component =>
      i ? `forwarder-${i}` : 'forwarder',
    );
    this.root = options.root ?? projectRoot;
    this.readyTimeoutMs = options.readyTimeoutMs ?? 20_000;
    this.drainTimeoutMs = options.drainTimeoutMs ?? 5_000;
    this.supervisor = new Supervisor({ home: options.home, readyTimeoutMs: this.readyTimeoutMs });
  }

  /** `$REPRISE_HOME/run/<captureId>/`. */
  captureDir(captureId: string): string {
    return this.supervisor.runFolder(captureId);
  }

  private recordFile(captureId: string, component: Component): string {
    return this.supervisor.recordFile(captureId, component);
  }

  private script(component: Component): string {
    const worker = component.startsWith('forwarder') ? 'forwarder' : component;
    const file = path.join(this.root, 'dist/workers', `${worker}.js`);
    if (!existsSync(file)) {
      throw new RuntimeError(`${file} is missing: run \`npm run build\``, 'NotBuilt');
    }
    return file;
  }

  /** Reuses a live, healthy process started for the same arguments; otherwise starts one. */
  private async ensureProcess(
    captureId: string,
    component: Component,
    args: string[],
    health: (record: ProcessRecord) => string | undefined,
    ctx: RuntimeContext,
  ): Promise<ProcessRecord> {
    const record = await this.supervisor.ensure(
      captureId,
      {
        name: component,
        script: this.script(component),
        args,
        health,
        env: workerNodeOptions(component.startsWith('forwarder') ? 'forwarder' : 'sidecar'),
      },
      ctx,
    );
    this.log.debug({ captureId, component, pid: record.pid, ready: record.ready }, 'process ready');
    return record;
  }

  private get shared(): boolean {
    return this.forwarderNames.length > 1;
  }

  /** The live forwarder processes of a capture, first one first. */
  async forwarderUrls(captureId: string): Promise<string[]> {
    const apis = await Promise.all(this.forwarderNames.map((name) => this.forwarder(captureId, name)));
    return apis.flatMap((api) => (api ? [api.url] : []));
  }

  private replicas(captureId: string): ForwarderReplicas {
    return new ForwarderReplicas(() => this.forwarderUrls(captureId), openSnapshotStore(this.options.home));
  }

  private async forwarder(
    captureId: string,
    name: Component = 'forwarder',
  ): Promise<ForwarderApi | undefined> {
    const record = await readRecord(this.recordFile(captureId, name));
    if (!record || typeof record.ready.port !== 'number' || !(await ownedAndAlive(record))) return undefined;
    return new ForwarderApi(`http://127.0.0.1:${record.ready.port}`);
  }

  private async requireForwarder(ref: CaptureRef): Promise<ForwarderApi> {
    const api = await this.forwarder(ref.captureId);
    if (!api) {
      throw new RuntimeError(
        `the forwarder of capture "${ref.captureId}" is gone; recording "${ref.snapshotId}" is lost`,
        'RecordingLost',
      );
    }
    return api;
  }

  async openRecording(req: OpenRecordingRequest, ctx: RuntimeContext): Promise<RecordingHandle> {
    const records = await Promise.all(
      this.forwarderNames.map((name) =>
        this.ensureProcess(
          req.captureId,
          name,
          ['--port', '0', '--host', '127.0.0.1', '--home', this.options.home],
          (r) => (typeof r.ready.port === 'number' ? `http://127.0.0.1:${r.ready.port}/healthz` : undefined),
          ctx,
        ),
      ),
    );
    const api = new ForwarderApi(`http://127.0.0.1:${records[0].ready.port}`);
    if (this.shared) await this.replicas(req.captureId).open(req, ctx.signal);
    else await api.openRecording(req, ctx.signal);
    return { forwarderUrl: api.url };
  }

  async enableCapture(req: EnableCaptureRequest, ctx: RuntimeContext): Promise<CaptureEndpoints> {
    const { target } = req;
    if (target.appPort === undefined) {
      throw new RuntimeError(
        'target.appPort: required for a local capture (a workload needs the Kubernetes runtime)',
        'InvalidInput',
      );
    }
    const args = [
      `--app-port=${target.appPort}`,
      `--app-host=${target.appHost}`,
      `--in-port=${target.inPort}`,
      `--out-port=${target.outPort}`,
      '--admin-port=0',
      `--forwarder=${req.recording.forwarderUrl}`,
      `--service=${req.service}`,
      `--drain-timeout=${this.drainTimeoutMs}`,
      ...(target.tlsIntercept ? ['--tls-intercept'] : []),
      ...(req.maxBodyBytes ? [`--max-body=${req.maxBodyBytes}`] : []),
    ];
    const record = await this.ensureProcess(
      req.captureId,
      'sidecar',
      args,
      (r) =>
        typeof r.ready.adminPort === 'number' ? `http://127.0.0.1:${r.ready.adminPort}/healthz` : undefined,
      ctx,
    );
    return { inPort: Number(record.ready.inPort), outPort: Number(record.ready.outPort ?? -1) };
  }

  async captureProgress(ref: CaptureRef, ctx: RuntimeContext): Promise<CaptureStatus> {
    const counts = this.shared
      ? await this.replicas(ref.captureId).status(ref.snapshotId, ctx.signal)
      : await (await this.requireForwarder(ref)).status(ref.snapshotId, ctx.signal);
    const sidecar = await readRecord(this.recordFile(ref.captureId, 'sidecar'));
    return { ...counts, capturing: !!sidecar && (await ownedAndAlive(sidecar)) };
  }

  private stop(captureId: string, component: Component, graceMs: number, ctx: RuntimeContext) {
    return this.supervisor.stop(captureId, component, graceMs, ctx);
  }

  /** SIGTERM makes the sidecar finish in-flight exchanges and flush its buffer to the forwarder. */
  async disableCapture(ref: CaptureRef, ctx: RuntimeContext): Promise<void> {
    await this.stop(ref.captureId, 'sidecar', this.drainTimeoutMs + DRAIN_MARGIN_MS, ctx);
  }

  async sealSnapshot(ref: CaptureRef, ctx: RuntimeContext): Promise<CaptureCounts> {
    if (this.shared) {
      const manifest = await whileWaiting(ctx, this.replicas(ref.captureId).seal(ref.snapshotId, ctx.signal));
      return manifestCounts(manifest);
    }
    const api = await this.requireForwarder(ref);
    return whileWaiting(ctx, api.seal(ref.snapshotId, ctx.signal));
  }

  /** A forwarder that is gone took its unsealed recordings with it: nothing left to abort. */
  async abortRecording(ref: CaptureRef, ctx: RuntimeContext): Promise<void> {
    if (this.shared) return whileWaiting(ctx, this.replicas(ref.captureId).abort(ref.snapshotId, ctx.signal));
    const api = await this.forwarder(ref.captureId);
    if (api) await whileWaiting(ctx, api.abort(ref.snapshotId, ctx.signal));
  }

  async teardown(ref: CaptureRef, ctx: RuntimeContext): Promise<void> {
    await this.stop(ref.captureId, 'sidecar', this.drainTimeoutMs + DRAIN_MARGIN_MS, ctx);
    for (const name of this.forwarderNames) await this.stop(ref.captureId, name, FORWARDER_GRACE_MS, ctx);
    await this.supervisor.forget(ref.captureId);
  }

  /**
   * Kills what this runtime started and never tore down. For an embedded server that dies with
   * the command: no worker could ever resume those captures.
   */
  async stopAll(): Promise<void> {
    // Alphabetical order stops the sidecar (draining) before the forwarder it drains into.
    await this.supervisor.stopEverything(this.drainTimeoutMs + DRAIN_MARGIN_MS);
  }
}

/** Heartbeats every second until `work` settles, for calls that take long on their own. */
export async function whileWaiting<T>(ctx: RuntimeContext, work: Promise<T>): Promise<T> {
  const timer = setInterval(() => ctx.heartbeat(), 1_000);
  try {
    return await work;
  } finally {
    clearInterval(timer);
  }
}
