/**
 * Sidecar injection as a pure function: a workload (or pod) in, a JSONPatch out. What was
 * injected is recorded in the `capture.reprise.dev/injected` annotation of the pod template, so
 * the webhook never injects twice, re-injects when the capture annotations change, and removes
 * exactly what it added (env entries it replaced get their old value back) once `inject` is no
 * longer "true". No I/O: the admission handler and the unit tests call it alike.
 *
 * Proxy types: `reverse` (inbound only: point the Service's targetPort at the sidecar's
 * `reprise-in` port), `forward` (outbound only: HTTP_PROXY/HTTPS_PROXY on the app container),
 * `dual` (both, the default), `transparent` (an iptables init container sends the app port's
 * inbound traffic to the sidecar, so the Service needs no change; outbound still goes through
 * HTTP_PROXY because the sidecar's outbound proxy is a forward proxy, not a NAT target).
 *
 * The CA (tls-out) is the Secret `reprise-ca` (ca.pem + ca-key.pem, the files the sidecar's
 * --ca-dir reads) in the workload's namespace: a Secret, not a ConfigMap, because it holds the
 * CA's private key. The sidecar mounts all of it; the app container mounts only ca.pem.
 */
import { createHash } from 'node:crypto';
import type { V1EnvVar, V1ObjectMeta, V1PodSpec, V1VolumeMount } from '@kubernetes/client-node';
import {
  CA_VOLUME,
  CAPTURE,
  INIT_CONTAINER,
  SIDECAR_CONTAINER,
  UPSTREAM_CA_KEY,
  UPSTREAM_CA_VOLUME,
} from '../api/annotations.js';
import { pointerKey, type JsonPatchOp } from '../api/json-patch.js';
import {
  AnnotationError,
  parseCaptureConfig,
  type CaptureConfig,
  type InjectOptions,
} from './capture-config.js';
import { CA_CERT_PATH, initContainer, sidecarContainer } from './sidecar-container.js';
import { nonProxyHostsFromNoProxy } from '../../jvm/java-tool-options.js';
import {
  fromRefWarning,
  ownOptionsFromRef,
  podJavaToolOptions,
  podTrustStore,
  POD_TRUSTSTORE_PATH,
} from '../../jvm/pod.js';
import { TRUSTSTORE_FILE } from '../../jvm/truststore.js';

/** What the webhook added; stored as JSON in `capture.reprise.dev/injected`. */
export interface InjectedRecord {
  v: 1;
  /** Of the CaptureConfig and options: a change re-injects. */
  hash: string;
  /** The app container that got env and mounts. */
  container: string;
  containers: string[];
  initContainers: string[];
  volumes: string[];
  /** Env names appended to the app container. */
  env: string[];
  /** Env entries of the app container that were overwritten, with their original value. */
  replacedEnv: V1EnvVar[];
  /** Mount paths added to the app container. */
  mounts: string[];
  /** Fields that did not exist before injection and are removed whole afterwards. */
  created: ('annotations' | 'initContainers' | 'volumes' | 'env' | 'volumeMounts')[];
}

/** A pod template (or a pod's own metadata and spec). */
export interface PodTemplate {
  metadata?: V1ObjectMeta;
  spec?: V1PodSpec;
}

export interface MutationResult {
  patch: JsonPatchOp[];
  warnings: string[];
  /** What happened, for logs and tests. */
  action: 'none' | 'inject' | 'reinject' | 'remove';
}

export const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet'] as const;

const PROXY_ENV = ['HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy'];
/** Loopback and the API server stay direct: they are not dependencies worth recording. */
const NO_PROXY = 'localhost,127.0.0.1,::1,kubernetes.default.svc';

function configHash(c: CaptureConfig, opts: InjectOptions): string {
  return createHash('sha256').update(JSON.stringify({ c, opts })).digest('hex').slice(0, 16);
}

const clone = <T>(x: T): T => (x === undefined ? x : (JSON.parse(JSON.stringify(x)) as T));

/** Adds the sidecar (and what it needs) to a template that carries no injection. */
export function applyInjection(template: PodTemplate, c: CaptureConfig, opts: InjectOptions): PodTemplate {
  const t = clone(template);
  t.metadata ??= {};
  t.spec ??= { containers: [] };
  const spec = t.spec;
  const record: InjectedRecord = {
    v: 1,
    hash: configHash(c, opts),
    container: c.container,
    containers: [SIDECAR_CONTAINER],
    initContainers: [],
    volumes: [],
    env: [],
    replacedEnv: [],
    mounts: [],
    created: [],
  };
  if (!t.metadata.annotations) record.created.push('annotations');
  spec.containers = [...spec.containers, sidecarContainer(c, opts)];
  if (c.proxyType === 'transparent') {
    if (!spec.initContainers) record.created.push('initContainers');
    // First, so the rules are in place before any other init container talks to the network.
    spec.initContainers = [initContainer(c, opts), ...(spec.initContainers ?? [])];
    record.initContainers.push(INIT_CONTAINER);
  }
  if (c.upstreamCa) {
    if (!spec.volumes) record.created.push('volumes');
    const items = [{ key: UPSTREAM_CA_KEY, path: UPSTREAM_CA_KEY }];
    spec.volumes = [
      ...(spec.volumes ?? []),
      { name: UPSTREAM_CA_VOLUME, configMap: { name: c.upstreamCa, items } },
    ];
    record.volumes.push(UPSTREAM_CA_VOLUME);
  }
  const app = spec.containers.find((x) => x.name === c.container)!;
  const env: V1EnvVar[] = [];
  if (c.proxyType !== 'reverse') {
    const proxy = `http://127.0.0.1:${c.outPort}`;
    const values: Record<string, string> = {
      HTTP_PROXY: proxy,
      HTTPS_PROXY: proxy,
      NO_PROXY,
      http_proxy: proxy,
      https_proxy: proxy,
      no_proxy: NO_PROXY,
    };
    for (const name of PROXY_ENV) env.push({ name, value: values[name] });
  }
  if (c.tlsOut) {
    if (!spec.volumes) record.created.push('volumes');
    spec.volumes = [...(spec.volumes ?? []), { name: CA_VOLUME, secret: { secretName: opts.caSecret } }];
    record.volumes.push(CA_VOLUME);
    if (!app.volumeMounts) record.created.push('volumeMounts');
    app.volumeMounts = [
      ...(app.volumeMounts ?? []),
      { name: CA_VOLUME, mountPath: CA_CERT_PATH, subPath: 'ca.pem', readOnly: true },
      ...(c.java
        ? [{ name: CA_VOLUME, mountPath: POD_TRUSTSTORE_PATH, subPath: TRUSTSTORE_FILE, readOnly: true }]
        : []),
    ];
    record.mounts.push(CA_CERT_PATH, ...(c.java ? [POD_TRUSTSTORE_PATH] : []));
    env.push(
      { name: 'NODE_EXTRA_CA_CERTS', value: CA_CERT_PATH },
      { name: 'SSL_CERT_FILE', value: CA_CERT_PATH },
    );
  }
  const outbound = c.proxyType !== 'reverse';
  if (c.java && (outbound || c.tlsOut)) {
    const jvm = podJavaToolOptions(app, {
      purpose: 'capture',
      ...(outbound
        ? { proxy: { host: '127.0.0.1', port: c.outPort, nonProxyHosts: nonProxyHostsFromNoProxy(NO_PROXY) } }
        : {}),
      ...(c.tlsOut ? { trustStore: podTrustStore() } : {}),
    });
    if (jvm) env.push(jvm);
  }
  if (env.length) {
    if (!app.env) record.created.push('env');
    app.env ??= [];
    for (const e of env) {
      const i = app.env.findIndex((x) => x.name === e.name);
      if (i >= 0) {
        record.replacedEnv.push(app.env[i]);
        app.env[i] = e;
      } else {
        app.env.push(e);
        record.env.push(e.name);
      }
    }
  }
  t.metadata.annotations = { ...t.metadata.annotations, [CAPTURE.injected]: JSON.stringify(record) };
  return t;
}

export function readInjectedRecord(template: PodTemplate): InjectedRecord | undefined {
  const text = template.metadata?.annotations?.[CAPTURE.injected];
  if (text === undefined) return undefined;
  try {
    const r = JSON.parse(text) as InjectedRecord;
    return r && r.v === 1 && Array.isArray(r.containers) ? r : undefined;
  } catch {
    return undefined;
  }
}

/** Removes exactly what the record says was injected; everything else is left as it is. */
export function removeInjection(template: PodTemplate, record: InjectedRecord): PodTemplate {
  const t = clone(template);
  const spec = t.spec;
  if (spec) {
    spec.containers = spec.containers.filter((c) => !record.containers.includes(c.name));
    const dropIfCreated = <K extends 'initContainers' | 'volumes'>(key: K, names: string[]) => {
      const kept = (spec[key] as { name: string }[] | undefined)?.filter((x) => !names.includes(x.name));
      if (kept === undefined) return;
      if (record.created.includes(key) && kept.length === 0) delete spec[key];
      else (spec[key] as { name: string }[]) = kept;
    };
    dropIfCreated('initContainers', record.initContainers);
    dropIfCreated('volumes', record.volumes);
    const app = spec.containers.find((c) => c.name === record.container);
    if (app) {
      if (app.env) {
        app.env = app.env.filter((e) => !record.env.includes(e.name));
        for (const old of record.replacedEnv) {
          const i = app.env.findIndex((e) => e.name === old.name);
          if (i >= 0) app.env[i] = old;
        }
        if (record.created.includes('env') && app.env.length === 0) delete app.env;
      }
      if (app.volumeMounts) {
        app.volumeMounts = app.volumeMounts.filter(
          (m: V1VolumeMount) => !record.mounts.includes(m.mountPath),
        );
        if (record.created.includes('volumeMounts') && app.volumeMounts.length === 0) delete app.volumeMounts;
      }
    }
  }
  if (t.metadata?.annotations) {
    delete t.metadata.annotations[CAPTURE.injected];
    if (record.created.includes('annotations') && Object.keys(t.metadata.annotations).length === 0)
      delete t.metadata.annotations;
  }
  return t;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** JSONPatch from `before` to `after`, touching only the fields injection changes. */
export function templatePatch(base: string, before: PodTemplate, after: PodTemplate): JsonPatchOp[] {
  const ops: JsonPatchOp[] = [];
  if (!same(before.metadata?.annotations, after.metadata?.annotations)) {
    if (!before.metadata)
      ops.push({ op: 'add', path: `${base}/metadata`, value: { annotations: after.metadata?.annotations } });
    else if (after.metadata?.annotations === undefined)
      ops.push({ op: 'remove', path: `${base}/metadata/annotations` });
    else ops.push({ op: 'add', path: `${base}/metadata/annotations`, value: after.metadata.annotations });
  }
  for (const key of ['containers', 'initContainers', 'volumes'] as const) {
    const b = before.spec?.[key];
    const a = after.spec?.[key];
    if (same(b, a)) continue;
    if (a === undefined) ops.push({ op: 'remove', path: `${base}/spec/${pointerKey(key)}` });
    else ops.push({ op: 'add', path: `${base}/spec/${pointerKey(key)}`, value: a });
  }
  return ops;
}

/** The parts of an AdmissionRequest injection looks at. */
export interface WorkloadAdmission {
  kind: string;
  operation: 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
  object: {
    metadata?: V1ObjectMeta;
    spec?: (V1PodSpec & { template?: PodTemplate }) | { template?: PodTemplate };
  };
}

/**
 * The whole decision: inject, re-inject (annotations changed), remove (inject no longer
 * "true"), or nothing. Bad annotation values never block the workload: a warning, no change.
 */
export function mutateWorkload(req: WorkloadAdmission, opts: InjectOptions): MutationResult {
  const none = (warnings: string[] = []): MutationResult => ({ patch: [], warnings, action: 'none' });
  if (req.operation !== 'CREATE' && req.operation !== 'UPDATE') return none();
  const isPod = req.kind === 'Pod';
  if (!isPod && !(WORKLOAD_KINDS as readonly string[]).includes(req.kind)) return none();
  const meta = req.object.metadata ?? {};
  const template: PodTemplate | undefined = isPod
    ? { metadata: req.object.metadata, spec: req.object.spec as V1PodSpec }
    : (req.object.spec as { template?: PodTemplate } | undefined)?.template;
  if (!template?.spec) return none();
  const base = isPod ? '' : '/spec/template';
  const podAnnotations = template.metadata?.annotations ?? {};
  // The template's annotations win; the workload's own annotations are the fallback.
  const annotations = { ...(isPod ? {} : (meta.annotations ?? {})), ...podAnnotations };
  const wanted = annotations[CAPTURE.inject] === 'true';
  const record = readInjectedRecord(template);
  const hasSidecar = template.spec.containers?.some((c) => c.name === SIDECAR_CONTAINER);

  if (!wanted) {
    // A running pod's containers cannot change: removal happens on its workload's template.
    if (!record || isPod) return none();
    const after = removeInjection(template, record);
    return { patch: templatePatch(base, template, after), warnings: [], action: 'remove' };
  }
  if (isPod && (record || hasSidecar)) return none(); // made from an injected template
  if (!record && hasSidecar)
    return none([`${SIDECAR_CONTAINER}: the pod already has a container of that name; nothing injected`]);

  const stripped = record ? removeInjection(template, record) : template;
  let config: CaptureConfig;
  try {
    const fallbackService = isPod ? ownerName(meta) : (meta.name ?? 'app');
    config = parseCaptureConfig(annotations, stripped.spec!, fallbackService, opts);
  } catch (err) {
    if (!(err instanceof AnnotationError)) throw err;
    const kept = record ? '; the sidecar injected before is kept as it was' : '; the sidecar is not injected';
    return none([`${err.message}${kept}`]);
  }
  if (record && record.hash === configHash(config, opts)) return none();
  const after = applyInjection(stripped, config, opts);
  const app = stripped.spec!.containers.find((x) => x.name === config.container)!;
  return {
    patch: templatePatch(base, template, after),
    warnings: config.java && ownOptionsFromRef(app) ? [fromRefWarning(app.name)] : [],
    action: record ? 'reinject' : 'inject',
  };
}

/** A bare pod's service name: its generateName stem (its ReplicaSet's name) or its own name. */
function ownerName(meta: V1ObjectMeta): string {
  const owner = meta.ownerReferences?.[0]?.name;
  return (meta.name ?? owner ?? meta.generateName?.replace(/-+$/, '') ?? 'app').slice(0, 63);
}
