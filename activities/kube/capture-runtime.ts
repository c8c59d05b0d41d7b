/**
 * The Kubernetes runtime of a capture: the recording lives in the cluster's forwarder (its HTTP
 * API, as locally), and capture is switched on by annotating the workload's pod template; the
 * operator's mutating webhook injects the sidecar on that update, and the rollout puts it in
 * every pod. The workload itself records what was set (a label with the capture id, and an
 * annotation listing the template annotations), so disabling removes exactly those, from any
 * worker, and `kubectl get deploy -l capture.reprise.dev/id` shows what is being captured.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { WorkloadRef } from '../../src/config/replay.js';
import { pointerKey, type JsonPatchOp } from '../../src/kube/api/json-patch.js';
import { KubeApi, KubeApiError, resourcePath } from '../../src/kube/client/api.js';
import { CAPTURE, LABELS } from '../../src/kube/api/annotations.js';
import { ForwarderApi } from '../../src/forwarder/client.js';
import { ForwarderReplicas, manifestCounts } from '../../src/forwarder/group.js';
import { serviceEndpointUrls } from '../../src/kube/client/service-endpoints.js';
import type { SnapshotStore } from '../../src/store/types.js';
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
import {
  describeWorkload,
  readWorkload,
  shortId,
  waitForRollout,
  workloadPath,
  type WorkloadObject,
} from './common.js';
import { whileWaiting } from '../local/capture-runtime.js';
import { checkUpstreamCa } from './upstream-ca.js';

export interface KubeCaptureRuntimeOptions {
  kubeConfig: KubeConfig;
  /** How the orchestrator reaches the forwarder's control API. */
  forwarderUrl: string;
  /** Bound on each rollout wait (enable, disable); default 90 s, inside the activity's 2 min. */
  rolloutTimeoutMs?: number;
  /**
   * Several forwarder replicas (the chart's forwarder.replicas > 1, S3 store): their Service,
   * whose ready endpoints a capture opens, polls and seals on, and the store the seal writes to.
   */
  replicas?: { namespace: string; service: string; store: SnapshotStore };
}

/** On the workload (not its template): the template annotations this capture set, as JSON. */
const RECORD_ANNOTATION = 'capture.reprise.dev/set-by-capture';
const DEFAULT_IN_PORT = 4143;
const DEFAULT_OUT_PORT = 4140;
const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet'] as const;

interface CaptureRecord {
  captureId: string;
  annotations: Record<string, string>;
}

export class KubeCaptureRuntime implements CaptureRuntime {
  private readonly api: KubeApi;
  private readonly forwarder: ForwarderApi;
  private readonly rolloutTimeoutMs: number;
  private readonly replicas?: ForwarderReplicas;

  constructor(readonly options: KubeCaptureRuntimeOptions) {
    this.api = new KubeApi(options.kubeConfig);
    this.forwarder = new ForwarderApi(options.forwarderUrl);
    this.rolloutTimeoutMs = options.rolloutTimeoutMs ?? 90_000;
    const r = options.replicas;
    if (r) {
      const urls = () => serviceEndpointUrls(this.api, r.namespace, r.service);
      this.replicas = new ForwarderReplicas(urls, r.store);
    }
  }

  async openRecording(req: OpenRecordingRequest, ctx: RuntimeContext): Promise<RecordingHandle> {
    if (this.replicas) await this.replicas.open(req, ctx.signal);
    else await this.forwarder.openRecording(req, ctx.signal);
    return { forwarderUrl: this.forwarder.url };
  }

  /** The template annotations that ask the webhook for this capture's sidecar. */
  private annotationsFor(req: EnableCaptureRequest): Record<string, string> {
    const { target } = req;
    const inPort = target.inPort > 0 ? target.inPort : DEFAULT_IN_PORT;
    const a: Record<string, string> = {
      [CAPTURE.inject]: 'true',
      [CAPTURE.inPort]: String(inPort),
      [CAPTURE.service]: req.service,
    };
    if (target.appPort !== undefined) a[CAPTURE.appPort] = String(target.appPort);
    if (target.outPort === -1) a[CAPTURE.proxyType] = 'reverse';
    else a[CAPTURE.outPort] = String(target.outPort > 0 ? target.outPort : DEFAULT_OUT_PORT);
    if (target.tlsIntercept) a[CAPTURE.tlsOut] = 'true';
    if (target.workload?.container) a[CAPTURE.container] = target.workload.container;
    return a;
  }

  async enableCapture(req: EnableCaptureRequest, ctx: RuntimeContext): Promise<CaptureEndpoints> {
    const workload = req.target.workload;
    if (!workload) {
      throw new RuntimeError(
        'target.workload: the Kubernetes runtime captures a workload; give target.workload (kind, name, namespace)',
        'InvalidInput',
      );
    }
    const annotations = this.annotationsFor(req);
    const current = await readWorkload(this.api, workload, 'target.workload', ctx);
    await checkUpstreamCa(this.api, workload, current, ctx);
    const existing = parseRecord(current);
    if (existing && existing.captureId !== req.captureId) {
      throw new RuntimeError(
        `target.workload: ${describeWorkload(workload)} is already captured by "${existing.captureId}"`,
        'InvalidInput',
      );
    }
    const record: CaptureRecord = { captureId: req.captureId, annotations };
    // A merge patch creates missing maps; re-applying the same values changes nothing (a retry).
    await this.api.mergePatch(
      workloadPath(workload),
      {
        metadata: {
          labels: { [LABELS.captureId]: shortId(req.captureId) },
          annotations: { [RECORD_ANNOTATION]: JSON.stringify(record) },
        },
        spec: { template: { metadata: { annotations } } },
      },
      ctx.signal,
    );
    await waitForRollout(this.api, workload, this.rolloutTimeoutMs, ctx);
    return {
      inPort: Number(annotations[CAPTURE.inPort]),
      outPort: annotations[CAPTURE.outPort] ? Number(annotations[CAPTURE.outPort]) : -1,
    };
  }

  async captureProgress(ref: CaptureRef, ctx: RuntimeContext): Promise<CaptureStatus> {
    const counts = this.replicas
      ? await this.replicas.status(ref.snapshotId, ctx.signal)
      : await this.forwarder.status(ref.snapshotId, ctx.signal);
    const workloads = await this.capturedWorkloads(ref, ctx);
    const capturing = workloads.some(
      (w) => w.spec.template.metadata?.annotations?.[CAPTURE.inject] === 'true',
    );
    return { ...counts, capturing };
  }

  /** The workloads this capture annotated (normally one), found by the label it set. */
  private async capturedWorkloads(ref: CaptureRef, ctx: RuntimeContext): Promise<WorkloadObject[]> {
    const selector = `${LABELS.captureId}=${shortId(ref.captureId)}`;
    const lists = await Promise.all(
      WORKLOAD_KINDS.map(async (kind) => {
        const list = await this.api.list<WorkloadObject>(resourcePath(kind), selector, ctx.signal);
        return list.items.map((w) => ({ ...w, kind }));
      }),
    );
    return lists.flat().filter((w) => parseRecord(w)?.captureId === ref.captureId);
  }

  /**
   * Removes the template annotations this capture set (only where they still hold its values),
   * waits for the rollout that takes the sidecar away, then drops the label and record: a retry
   * after a timed-out wait finds the workload again and waits once more.
   */
  async disableCapture(ref: CaptureRef, ctx: RuntimeContext): Promise<void> {
    for (const w of await this.capturedWorkloads(ref, ctx)) {
      const target: WorkloadRef = {
        apiVersion: 'apps/v1',
        kind: w.kind as WorkloadRef['kind'],
        name: w.metadata!.name!,
        namespace: w.metadata!.namespace!,
      };
      await this.patchWithTests(target, ctx, (obj) => {
        const record = parseRecord(obj);
        if (!record) return [];
        const present = obj.spec.template.metadata?.annotations ?? {};
        return Object.entries(record.annotations)
          .filter(([key, value]) => present[key] === value)
          .flatMap(([key, value]): JsonPatchOp[] => {
            const path = `/spec/template/metadata/annotations/${pointerKey(key)}`;
            return [
              { op: 'test', path, value },
              { op: 'remove', path },
            ];
          });
      });
      await waitForRollout(this.api, target, this.rolloutTimeoutMs, ctx);
      await this.patchWithTests(target, ctx, (obj) => {
        const ops: JsonPatchOp[] = [];
        const label = `/metadata/labels/${pointerKey(LABELS.captureId)}`;
        const annotation = `/metadata/annotations/${pointerKey(RECORD_ANNOTATION)}`;
        if (obj.metadata?.labels?.[LABELS.captureId] !== undefined) {
          ops.push({ op: 'test', path: label, value: shortId(ref.captureId) }, { op: 'remove', path: label });
        }
        if (obj.metadata?.annotations?.[RECORD_ANNOTATION] !== undefined) {
          const value = obj.metadata.annotations[RECORD_ANNOTATION];
          ops.push({ op: 'test', path: annotation, value }, { op: 'remove', path: annotation });
        }
        return ops;
      });
    }
  }

  /**
   * Applies the JSON patch built from the current object; its test ops make a concurrent change
   * fail the patch (422) instead of being overwritten, and the patch is then rebuilt (bounded).
   */
  private async patchWithTests(
    w: WorkloadRef,
    ctx: RuntimeContext,
    build: (obj: WorkloadObject) => JsonPatchOp[],
  ): Promise<void> {
    let lastError: unknown;
    for (let attempt = 0; attempt < 5; attempt++) {
      const obj = await this.api.find<WorkloadObject>(workloadPath(w), ctx.signal);
      if (!obj) return;
      const ops = build(obj);
      if (ops.length === 0) return;
      try {
        await this.api.jsonPatch(workloadPath(w), ops, ctx.signal);
        return;
      } catch (err) {
        if (!(err instanceof KubeApiError && err.status === 422)) throw err;
        lastError = err;
      }
    }
    throw new RuntimeError(
      `${describeWorkload(w)}: it kept changing while Reprise removed its annotations: ${(lastError as Error).message}`,
      'WorkloadConflict',
      true,
    );
  }

  async sealSnapshot(ref: CaptureRef, ctx: RuntimeContext): Promise<CaptureCounts> {
    if (this.replicas)
      return manifestCounts(await whileWaiting(ctx, this.replicas.seal(ref.snapshotId, ctx.signal)));
    return whileWaiting(ctx, this.forwarder.seal(ref.snapshotId, ctx.signal));
  }

  async abortRecording(ref: CaptureRef, ctx: RuntimeContext): Promise<void> {
    await whileWaiting(ctx, (this.replicas ?? this.forwarder).abort(ref.snapshotId, ctx.signal));
  }

  /** The forwarder is shared and stays; only the workload annotations may be left. */
  teardown(ref: CaptureRef, ctx: RuntimeContext): Promise<void> {
    return this.disableCapture(ref, ctx);
  }
}

function parseRecord(w: WorkloadObject): CaptureRecord | undefined {
  const text = w.metadata?.annotations?.[RECORD_ANNOTATION];
  if (!text) return undefined;
  try {
    const r = JSON.parse(text) as CaptureRecord;
    return typeof r.captureId === 'string' && r.annotations ? r : undefined;
  } catch {
    return undefined;
  }
}
