/**
 * The orchestrator's runtime from its environment: `REPRISE_RUNTIME=kubernetes` selects the
 * Kubernetes runtimes, configured by KUBECONFIG (or the in-cluster service account),
 * REPRISE_NAMESPACE, REPRISE_IMAGE and REPRISE_FORWARDER_URL. A bad value fails naming the
 * variable, before the worker polls anything.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeCaptureRuntime } from './capture-runtime.js';
import { KubeReplayRuntime } from './replay/index.js';
import { openSnapshotStore } from '../../src/store/open.js';

export class RuntimeEnvError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'RuntimeEnvError';
  }
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export interface KubeRuntimes {
  runtime: KubeCaptureRuntime;
  replayRuntime: KubeReplayRuntime;
}

/** Undefined for the local runtime (REPRISE_RUNTIME unset or `local`). */
export function kubeRuntimesFromEnv(env: NodeJS.ProcessEnv, home: string): KubeRuntimes | undefined {
  const kind = env.REPRISE_RUNTIME || 'local';
  if (kind === 'local') return undefined;
  if (kind !== 'kubernetes') {
    throw new RuntimeEnvError('REPRISE_RUNTIME', `expected local or kubernetes, got "${kind}"`);
  }
  const kubeConfig = loadKubeConfig(env);
  const namespace = env.REPRISE_NAMESPACE ?? '';
  if (!DNS_LABEL.test(namespace)) {
    throw new RuntimeEnvError(
      'REPRISE_NAMESPACE',
      namespace
        ? `expected a namespace name (lowercase letters, digits, -), got "${namespace}"`
        : "required with REPRISE_RUNTIME=kubernetes (Reprise's own namespace)",
    );
  }
  const image = env.REPRISE_IMAGE ?? '';
  if (!image || /\s/.test(image)) {
    throw new RuntimeEnvError(
      'REPRISE_IMAGE',
      image
        ? `expected an image reference, got "${image}"`
        : 'required with REPRISE_RUNTIME=kubernetes (the Reprise image)',
    );
  }
  const forwarderUrl = env.REPRISE_FORWARDER_URL ?? '';
  if (!/^https?:\/\/[^/\s]+/.test(forwarderUrl) || !URL.canParse(forwarderUrl)) {
    throw new RuntimeEnvError(
      'REPRISE_FORWARDER_URL',
      forwarderUrl
        ? `expected an http:// or https:// URL, got "${forwarderUrl}"`
        : 'required with REPRISE_RUNTIME=kubernetes (e.g. http://reprise-forwarder.reprise.svc:4150)',
    );
  }
  const service = env.REPRISE_FORWARDER_SERVICE?.trim();
  if (service !== undefined && service !== '' && !DNS_LABEL.test(service)) {
    throw new RuntimeEnvError(
      'REPRISE_FORWARDER_SERVICE',
      `expected the forwarder Service's name (lowercase letters, digits, -), got "${service}"`,
    );
  }
  // Forwarder replicas behind that Service: sealed over all of them into the S3 store.
  const replicas = service ? { namespace, service, store: openSnapshotStore(home, env) } : undefined;
  return {
    runtime: new KubeCaptureRuntime({ kubeConfig, forwarderUrl, replicas }),
    replayRuntime: new KubeReplayRuntime({ kubeConfig, namespace, image, forwarderUrl, home }),
  };
}

function loadKubeConfig(env: NodeJS.ProcessEnv): KubeConfig {
  const kc = new KubeConfig();
  if (env.KUBECONFIG) {
    const files = env.KUBECONFIG.split(path.delimiter).filter(Boolean);
    const missing = files.filter((f) => !existsSync(f));
    if (missing.length === files.length) {
      throw new RuntimeEnvError('KUBECONFIG', `no such file: ${missing.join(', ')}`);
    }
    try {
      kc.loadFromFile(files.find((f) => existsSync(f))!);
    } catch (err) {
      throw new RuntimeEnvError('KUBECONFIG', `unreadable kubeconfig: ${(err as Error).message}`);
    }
    if (!kc.getCurrentCluster()) throw new RuntimeEnvError('KUBECONFIG', 'no current context with a cluster');
    return kc;
  }
  if (!env.KUBERNETES_SERVICE_HOST) {
    throw new RuntimeEnvError(
      'KUBECONFIG',
      'required with REPRISE_RUNTIME=kubernetes outside a cluster (inside one, the service account is used)',
    );
  }
  kc.loadFromCluster();
  return kc;
}
