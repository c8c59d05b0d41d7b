/**
 * What every part of the Kubernetes replay runtime shares: the API client, Reprise's namespace,
 * the options and bounds, and how a replay's objects and containers are named and built. The
 * responder, the app's routing, the generator Job, the collector and the cleanup are functions
 * of it (one module each); ./index.ts composes them into the ReplayRuntime.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { WorkloadRef } from '../../../src/config/replay.js';
import { KubeApi } from '../../../src/kube/client/api.js';
import { childLog } from '../../../src/base/log.js';
import { workerNodeFlags } from '../../../src/base/node-options.js';
import { observedFile } from '../../../src/base/paths.js';
import { objectName, replayLabels } from '../common.js';

export interface KubeReplayRuntimeOptions {
  kubeConfig: KubeConfig;
  /** Reprise's own namespace: the responder, generator and bookkeeping objects go there. */
  namespace: string;
  /** The Reprise image (entry points in dist/workers/). */
  image: string;
  /** The forwarder as pods reach it (snapshot API, uploads). */
  forwarderUrl: string;
  /** The store the orchestrator shares with the forwarder: snapshots, observed files, summaries. */
  home: string;
  /** Bound on waits for the responder and the patched workload; default 2 min (setup allows 3). */
  readyTimeoutMs?: number;
  /** Bound on waits during teardown (restore, cleanup); default 45 s (teardown allows 1 min). */
  teardownTimeoutMs?: number;
  /** Bound on the generator Job; default 24 h (the activity's own limit). */
  generatorTimeoutMs?: number;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
}

export const CA_MOUNT = '/etc/reprise/ca';
export const CONFIG_MOUNT = '/etc/reprise/config';

export class ReplayCluster {
  readonly api: KubeApi;
  readonly ns: string;
  readonly readyTimeoutMs: number;
  readonly teardownTimeoutMs: number;
  readonly generatorTimeoutMs: number;
  readonly log = childLog('kube-replay-runtime');

  constructor(readonly options: KubeReplayRuntimeOptions) {
    this.api = new KubeApi(options.kubeConfig);
    this.ns = options.namespace;
    this.readyTimeoutMs = options.readyTimeoutMs ?? 120_000;
    this.teardownTimeoutMs = options.teardownTimeoutMs ?? 45_000;
    this.generatorTimeoutMs = options.generatorTimeoutMs ?? 24 * 3600_000;
  }

  observedPath(replayId: string): string {
    return observedFile(this.options.home, replayId);
  }

  meta(replayId: string, component: string, namespace = this.ns) {
    return { name: objectName(component, replayId), namespace, labels: replayLabels(replayId, component) };
  }

  container(name: string, args: string[], mounts: { name: string; mountPath: string }[]) {
    return {
      name,
      image: this.options.image,
      imagePullPolicy: this.options.imagePullPolicy,
      command: ['node', ...workerNodeFlags(name), `dist/workers/${name}.js`],
      args,
      volumeMounts: mounts.map((m) => ({ ...m, readOnly: true })),
    };
  }

  ownRef(kind: WorkloadRef['kind'], name: string): WorkloadRef {
    return { apiVersion: 'apps/v1', kind, name, namespace: this.ns };
  }
}
