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
import type { V1Container, V1EnvVar, V1ObjectMeta, V1PodSpec, V1VolumeMount } from '@kubernetes/client-node';
import { CA_VOLUME, CAPTURE, INIT_CONTAINER, SIDECAR_CONTAINER } from '../api/annotations.js';

export const PROXY_TYPES = ['reverse', 'forward', 'dual', 'transparent'] as const;
export type ProxyType = (typeof PROXY_TYPES)[number];

/** The operator's side of injection: its flags and environment. */
export interface InjectOptions {
  /** The Reprise image (REPRISE_IMAGE); the sidecar runs `node dist/workers/sidecar.js` in it. */
  image: string;
  imagePullPolicy?: string;
  /** Image of the transparent mode's init container; it needs `sh` and `iptables`. Default: image. */
  initImage?: string;
  /** Where the sidecar ships pairs (REPRISE_FORWARDER_URL); absent: the sidecar records nothing. */
  forwarderUrl?: string;
  /** The sidecar's admin port (/healthz for the readiness probe). */
  adminPort: number;
  /** In/out ports when the workload's annotations give none. */
  inPort: number;
  outPort: number;
  /** The Secret holding ca.pem and ca-key.pem, in the workload's namespace. */
  caSecret: string;
  /** Resources when the workload's annotations give none. */
  resources: SidecarResources;
}

export interface SidecarResources {
  cpuRequest?: string;
  memoryRequest?: string;
  cpuLimit?: string;
  memoryLimit?: string;
}

export const DEFAULT_INJECT_OPTIONS: Omit<InjectOptions, 'image'> = {
  adminPort: 4144,
  inPort: 4143,
  outPort: 4140,
  caSecret: CA_VOLUME,
  resources: { cpuRequest: '10m', memoryRequest: '32Mi' },
};

/** The capture annotations, parsed and checked against the pod spec. */
export interface CaptureConfig {
  proxyType: ProxyType;
  container: string;
  appPort?: number;
  inPort: number;
  outPort: number;
  tlsOut: boolean;
  service: string;
  ignorePaths?: string[];
  ignoreHosts?: string[];
  ignorePorts?: number[];
  ignoreSrcIps?: string[];
  resources: SidecarResources;
}

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

export interface JsonPatchOp {
  op: 'add' | 'remove' | 'replace';
  path: string;
  value?: unknown;
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

export const CA_DIR = '/etc/reprise/ca';
export const CA_CERT_PATH = `${CA_DIR}/ca.pem`;
const PROXY_ENV = ['HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy'];
/** Loopback and the API server stay direct: they are not dependencies worth recording. */
const NO_PROXY = 'localhost,127.0.0.1,::1,kubernetes.default.svc';
/** The sidecar's uid in transparent mode, so iptables can leave its own traffic alone. */
const SIDECAR_UID = 1337;
const QUANTITY = /^[+]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+|[numkKMGTPE]i?|m)?$/;

export class AnnotationError extends Error {}

const int = (key: string, text: string, min: number, max: number): number => {
  const n = Number(text);
  if (text.trim() === '' || !Number.isInteger(n) || n < min || n > max)
    throw new AnnotationError(`${key}: expected an integer ${min}-${max}, got "${text}"`);
  return n;
};
const list = (text: string | undefined) =>
  text === undefined
    ? undefined
    : text
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean);

/**
 * Reads the capture annotations (pod template first, then the workload's) against the pod spec.
 * Throws AnnotationError naming the annotation when a value is unusable.
 */
export function parseCaptureConfig(
  annotations: Record<string, string>,
  spec: V1PodSpec,
  fallbackService: string,
  defaults: Pick<InjectOptions, 'resources' | 'inPort' | 'outPort'>,
): CaptureConfig {
  const a = (key: string) => annotations[key];
  const proxyType = (a(CAPTURE.proxyType) ?? 'dual') as ProxyType;
  if (!PROXY_TYPES.includes(proxyType))
    throw new AnnotationError(
      `${CAPTURE.proxyType}: expected one of ${PROXY_TYPES.join(', ')}, got "${proxyType}"`,
    );
  const containers = (spec.containers ?? []).filter((c) => c.name !== SIDECAR_CONTAINER);
  const containerName = a(CAPTURE.container) ?? containers[0]?.name;
  const app = containers.find((c) => c.name === containerName);
  if (!app)
    throw new AnnotationError(
      `${CAPTURE.container}: no container "${containerName ?? ''}" in the pod (has: ${containers.map((c) => c.name).join(', ') || 'none'})`,
    );
  const inbound = proxyType !== 'forward';
  const firstPort = app.ports?.find((p) => (p.protocol ?? 'TCP') === 'TCP')?.containerPort;
  const appPortText = a(CAPTURE.appPort);
  const appPort = appPortText !== undefined ? int(CAPTURE.appPort, appPortText, 1, 65535) : firstPort;
  if (inbound && appPort === undefined)
    throw new AnnotationError(
      `${CAPTURE.appPort}: required: container "${app.name}" declares no containerPort to capture`,
    );
  const inPort =
    a(CAPTURE.inPort) !== undefined ? int(CAPTURE.inPort, a(CAPTURE.inPort), 1, 65535) : defaults.inPort;
  const outPort =
    a(CAPTURE.outPort) !== undefined ? int(CAPTURE.outPort, a(CAPTURE.outPort), 1, 65535) : defaults.outPort;
  if (inbound && inPort === appPort)
    throw new AnnotationError(`${CAPTURE.inPort}: must differ from the app port ${appPort}`);
  if (inPort === outPort)
    throw new AnnotationError(`${CAPTURE.outPort}: must differ from the in-port ${inPort}`);
  const tlsOutText = a(CAPTURE.tlsOut) ?? 'false';
  if (tlsOutText !== 'true' && tlsOutText !== 'false')
    throw new AnnotationError(`${CAPTURE.tlsOut}: expected "true" or "false", got "${tlsOutText}"`);
  const service = a(CAPTURE.service) ?? fallbackService;
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(service))
    throw new AnnotationError(
      `${CAPTURE.service}: expected letters, digits, ".", "_", "-" (at most 63), got "${service}"`,
    );
  const resources: SidecarResources = { ...defaults.resources };
  for (const [field, key] of [
    ['cpuRequest', CAPTURE.cpuRequest],
    ['memoryRequest', CAPTURE.memoryRequest],
    ['cpuLimit', CAPTURE.cpuLimit],
    ['memoryLimit', CAPTURE.memoryLimit],
  ] as const) {
    const value = a(key);
    if (value === undefined) continue;
    if (!QUANTITY.test(value))
      throw new AnnotationError(`${key}: expected a quantity such as 100m or 64Mi, got "${value}"`);
    resources[field] = value;
  }
  return {
    proxyType,
    container: app.name,
    appPort,
    inPort,
    outPort,
    tlsOut: tlsOutText === 'true',
    service,
    ignorePaths: list(a(CAPTURE.ignorePaths)),
    ignoreHosts: list(a(CAPTURE.ignoreHosts)),
    ignorePorts: list(a(CAPTURE.ignorePorts))?.map((p) => int(CAPTURE.ignorePorts, p, 1, 65535)),
    ignoreSrcIps: list(a(CAPTURE.ignoreSrcIps)),
    resources,
  };
}

function sidecarArgs(c: CaptureConfig, opts: InjectOptions): string[] {
  const inbound = c.proxyType !== 'forward';
  const outbound = c.proxyType !== 'reverse';
  const args = [
    'dist/workers/sidecar.js',
    ...(c.appPort !== undefined ? ['--app-port', String(c.appPort)] : []),
    '--in-port',
    inbound ? String(c.inPort) : '-1',
    // The Service and the probe reach inbound and admin from outside the pod.
    ...(inbound ? ['--in-host', '0.0.0.0'] : []),
    '--out-port',
    outbound ? String(c.outPort) : '-1',
    '--admin-port',
    String(opts.adminPort),
    '--admin-host',
    '0.0.0.0',
    '--service',
    c.service,
  ];
  if (opts.forwarderUrl) args.push('--forwarder', opts.forwarderUrl);
  if (c.tlsOut) args.push('--tls-intercept', '--ca-dir', CA_DIR);
  if (c.ignorePaths) args.push(`--ignore-paths=${c.ignorePaths.join(',')}`);
  if (c.ignoreHosts) args.push(`--ignore-hosts=${c.ignoreHosts.join(',')}`);
  if (c.ignorePorts?.length) args.push('--ignore-ports', c.ignorePorts.join(','));
  if (c.ignoreSrcIps) args.push(`--ignore-src-ips=${c.ignoreSrcIps.join(',')}`);
  return args;
}

function sidecarContainer(c: CaptureConfig, opts: InjectOptions): V1Container {
  const r = c.resources;
  const requests: Record<string, string> = {};
  const limits: Record<string, string> = {};
  if (r.cpuRequest) requests.cpu = r.cpuRequest;
  if (r.memoryRequest) requests.memory = r.memoryRequest;
  if (r.cpuLimit) limits.cpu = r.cpuLimit;
  if (r.memoryLimit) limits.memory = r.memoryLimit;
  const container: V1Container = {
    name: SIDECAR_CONTAINER,
    image: opts.image,
    command: ['node'],
    args: sidecarArgs(c, opts),
    ports: [
      ...(c.proxyType !== 'forward'
        ? [{ name: 'reprise-in', containerPort: c.inPort, protocol: 'TCP' }]
        : []),
      { name: 'reprise-admin', containerPort: opts.adminPort, protocol: 'TCP' },
    ],
    resources: {
      ...(Object.keys(requests).length ? { requests } : {}),
      ...(Object.keys(limits).length ? { limits } : {}),
    },
    readinessProbe: {
      httpGet: { path: '/healthz', port: opts.adminPort, scheme: 'HTTP' },
      periodSeconds: 5,
      failureThreshold: 3,
    },
    securityContext: {
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      ...(c.proxyType === 'transparent' ? { runAsUser: SIDECAR_UID } : {}),
    },
    ...(c.tlsOut ? { volumeMounts: [{ name: CA_VOLUME, mountPath: CA_DIR, readOnly: true }] } : {}),
  };
  if (opts.imagePullPolicy) container.imagePullPolicy = opts.imagePullPolicy;
  return container;
}

/** Inbound to the app port goes to the sidecar; its own connections to the app (loopback) do not. */
function initContainer(c: CaptureConfig, opts: InjectOptions): V1Container {
  const script = [
    'set -e',
    `iptables -t nat -A PREROUTING -p tcp --dport ${c.appPort} -j REDIRECT --to-ports ${c.inPort}`,
  ].join('\n');
  const container: V1Container = {
    name: INIT_CONTAINER,
    image: opts.initImage ?? opts.image,
    command: ['sh', '-c', script],
    securityContext: {
      runAsUser: 0,
      runAsNonRoot: false,
      allowPrivilegeEscalation: false,
      capabilities: { add: ['NET_ADMIN', 'NET_RAW'], drop: ['ALL'] },
    },
    resources: { requests: { cpu: '10m', memory: '16Mi' } },
  };
  if (opts.imagePullPolicy) container.imagePullPolicy = opts.imagePullPolicy;
  return container;
}

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
    ];
    record.mounts.push(CA_CERT_PATH);
    env.push(
      { name: 'NODE_EXTRA_CA_CERTS', value: CA_CERT_PATH },
      { name: 'SSL_CERT_FILE', value: CA_CERT_PATH },
    );
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

const pointer = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');
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
    if (a === undefined) ops.push({ op: 'remove', path: `${base}/spec/${pointer(key)}` });
    else ops.push({ op: 'add', path: `${base}/spec/${pointer(key)}`, value: a });
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
  return {
    patch: templatePatch(base, template, after),
    warnings: [],
    action: record ? 'reinject' : 'inject',
  };
}

/** A bare pod's service name: its generateName stem (its ReplicaSet's name) or its own name. */
function ownerName(meta: V1ObjectMeta): string {
  const owner = meta.ownerReferences?.[0]?.name;
  return (meta.name ?? owner ?? meta.generateName?.replace(/-+$/, '') ?? 'app').slice(0, 63);
}
