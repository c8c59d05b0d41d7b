/**
 * A small JSON client for the Kubernetes API, authenticated by @kubernetes/client-node's
 * KubeConfig (kubeconfig file, or the in-cluster service account). Objects travel as plain
 * JSON, untouched: the typed client's models drop fields they do not know and turn times into
 * Dates, and a workload's pod template must be saved and restored byte for byte.
 */
import https from 'node:https';
import http from 'node:http';
import type { KubeConfig } from '@kubernetes/client-node';
import type { JsonPatchOp } from '../api/json-patch.js';

/** What every object has; the rest is the kind's own. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    generation?: number;
    resourceVersion?: string;
    uid?: string;
    creationTimestamp?: string;
  };
  [key: string]: unknown;
}

export interface KubeList<T = KubeObject> {
  items: T[];
  metadata?: { continue?: string };
}

/** A non-2xx answer; `status` is the HTTP status (404, 409, 422...). */
export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }
}

export const isNotFound = (err: unknown) => err instanceof KubeApiError && err.status === 404;
export const isConflict = (err: unknown) => err instanceof KubeApiError && err.status === 409;

/** Resources by kind: the API group/version path and the plural. */
const RESOURCES: Record<string, { base: string; plural: string; namespaced: boolean }> = {
  Deployment: { base: '/apis/apps/v1', plural: 'deployments', namespaced: true },
  StatefulSet: { base: '/apis/apps/v1', plural: 'statefulsets', namespaced: true },
  DaemonSet: { base: '/apis/apps/v1', plural: 'daemonsets', namespaced: true },
  ReplicaSet: { base: '/apis/apps/v1', plural: 'replicasets', namespaced: true },
  Job: { base: '/apis/batch/v1', plural: 'jobs', namespaced: true },
  Service: { base: '/api/v1', plural: 'services', namespaced: true },
  ConfigMap: { base: '/api/v1', plural: 'configmaps', namespaced: true },
  Secret: { base: '/api/v1', plural: 'secrets', namespaced: true },
  Pod: { base: '/api/v1', plural: 'pods', namespaced: true },
  Event: { base: '/api/v1', plural: 'events', namespaced: true },
  Namespace: { base: '/api/v1', plural: 'namespaces', namespaced: false },
  Lease: { base: '/apis/coordination.k8s.io/v1', plural: 'leases', namespaced: true },
  EndpointSlice: { base: '/apis/discovery.k8s.io/v1', plural: 'endpointslices', namespaced: true },
};

export type KubeKind = keyof typeof RESOURCES;

/** `/apis/apps/v1/namespaces/ns/deployments[/name]`; without a namespace, across all of them. */
export function resourcePath(kind: string, namespace?: string, name?: string): string {
  const r = RESOURCES[kind];
  if (!r) throw new Error(`resourcePath: unknown kind ${kind}`);
  const ns = r.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${r.base}${ns}/${r.plural}${name ? `/${encodeURIComponent(name)}` : ''}`;
}

export interface RequestOptions {
  body?: unknown;
  contentType?: string;
  query?: Record<string, string | number | boolean | undefined>;
  signal?: AbortSignal;
  /** The answer as text (pod logs), not JSON. */
  text?: boolean;
}

const REQUEST_TIMEOUT_MS = 30_000;
/** Answers above this are refused: a list or a log tail is expected to be small. */
const MAX_RESPONSE_BYTES = 32 * 1024 * 1024;

export class KubeApi {
  private readonly server: URL;

  constructor(readonly kubeConfig: KubeConfig) {
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig: no current cluster (check current-context)');
    this.server = new URL(cluster.server);
  }

  async request<T = KubeObject>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) query.set(k, String(v));
    const url = new URL(this.server.pathname.replace(/\/$/, '') + path, this.server);
    url.search = query.toString();
    const body = opts.body === undefined ? undefined : goJson(opts.body);
    const options: https.RequestOptions = {
      method,
      headers: {
        accept: opts.text ? '*/*' : 'application/json',
        ...(body === undefined
          ? {}
          : {
              'content-type': opts.contentType ?? 'application/json',
              'content-length': Buffer.byteLength(body),
            }),
      },
    };
    // Client certificate, CA, bearer token (in-cluster or kubeconfig) and the agent that uses them.
    await this.kubeConfig.applyToHTTPSOptions(options);
    const signal = opts.signal
      ? AbortSignal.any([opts.signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)])
      : AbortSignal.timeout(REQUEST_TIMEOUT_MS);
    const { status, text } = await send(url, options, body, signal);
    if (status < 200 || status > 299) {
      let reason = '';
      let message = text.slice(0, 2000);
      try {
        const s = JSON.parse(text) as { reason?: string; message?: string };
        reason = s.reason ?? '';
        message = s.message ?? message;
      } catch {
        // not a Status object
      }
      throw new KubeApiError(status, reason, `${method} ${path}: ${status} ${message}`.trim());
    }
    if (opts.text) return text as T;
    return (text ? JSON.parse(text) : {}) as T;
  }

  get<T = KubeObject>(path: string, signal?: AbortSignal): Promise<T> {
    return this.request<T>('GET', path, { signal });
  }

  /** The object, or undefined when it does not exist. */
  async find<T = KubeObject>(path: string, signal?: AbortSignal): Promise<T | undefined> {
    try {
      return await this.get<T>(path, signal);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Creates the object; one that already exists (409, a retried call) counts as created. */
  async ensure(obj: KubeObject, signal?: AbortSignal): Promise<void> {
    try {
      await this.request('POST', resourcePath(obj.kind!, obj.metadata?.namespace), { body: obj, signal });
    } catch (err) {
      if (!isConflict(err)) throw err;
    }
  }

  /** Deletes; one already gone (404) counts as deleted. Dependents go in the background. */
  async remove(path: string, signal?: AbortSignal): Promise<void> {
    try {
      await this.request('DELETE', path, {
        body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' },
        signal,
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  list<T = KubeObject>(path: string, labelSelector?: string, signal?: AbortSignal): Promise<KubeList<T>> {
    return this.request<KubeList<T>>('GET', path, { query: { labelSelector }, signal });
  }

  jsonPatch<T = KubeObject>(path: string, ops: JsonPatchOp[], signal?: AbortSignal): Promise<T> {
    return this.request<T>('PATCH', path, { body: ops, contentType: 'application/json-patch+json', signal });
  }

  mergePatch<T = KubeObject>(path: string, patch: unknown, signal?: AbortSignal): Promise<T> {
    return this.request<T>('PATCH', path, {
      body: patch,
      contentType: 'application/merge-patch+json',
      signal,
    });
  }
}

/**
 * JSON as Go's encoder writes it: `<`, `>`, `&`, U+2028 and U+2029 escaped inside strings. A
 * JSON patch `test` compares a value's bytes with the server's own encoding of the object, so
 * a template whose command holds `&&` or `=>` would never pass its test with plain JSON.stringify.
 */
export function goJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

function send(
  url: URL,
  options: https.RequestOptions,
  body: string | undefined,
  signal: AbortSignal,
): Promise<{ status: number; text: string }> {
  const lib = url.protocol === 'http:' ? http : https;
  return new Promise((resolve, reject) => {
    const req = lib.request(url, { ...options, signal }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_RESPONSE_BYTES) {
          req.destroy(new Error(`answer larger than ${MAX_RESPONSE_BYTES} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('error', (err) =>
      reject(new KubeApiError(0, 'Unreachable', `${options.method} ${url.pathname}: ${err.message}`)),
    );
    req.end(body);
  });
}
