/**
 * The capture annotations of a workload (`capture.reprise.dev/*`, src/kube/api/annotations.ts),
 * read and checked against its pod spec, and the operator's own injection options. A value that
 * cannot be used throws an AnnotationError naming the annotation.
 */
import type { V1PodSpec } from '@kubernetes/client-node';
import { CA_VOLUME, CAPTURE, SIDECAR_CONTAINER } from '../api/annotations.js';
import { wantsJvm } from '../../jvm/pod.js';

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
  /**
   * JAVA_TOOL_OPTIONS for the app (the `java` annotation, else detected): a JVM ignores HTTP_PROXY.
   * Absent rather than false, so the hash of a non-JVM workload's config is what it was before.
   */
  java?: true;
  /** The ConfigMap (key ca.crt) of upstream CAs the sidecar trusts; absent: the public roots only. */
  upstreamCa?: string;
  service: string;
  ignorePaths?: string[];
  ignoreHosts?: string[];
  ignorePorts?: number[];
  ignoreSrcIps?: string[];
  resources: SidecarResources;
}

/** An object name (RFC 1123 subdomain), as Kubernetes checks ConfigMap names. */
export const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
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
  const java = wantsJvm(a(CAPTURE.java), app);
  if (java === undefined)
    throw new AnnotationError(`${CAPTURE.java}: expected "true" or "false", got "${a(CAPTURE.java)}"`);
  const upstreamCa = a(CAPTURE.upstreamCa);
  if (upstreamCa !== undefined && !DNS_SUBDOMAIN.test(upstreamCa))
    throw new AnnotationError(
      `${CAPTURE.upstreamCa}: expected the name of a ConfigMap in the workload's namespace, got "${upstreamCa}"`,
    );
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
    ...(java ? { java } : {}),
    ...(upstreamCa !== undefined ? { upstreamCa } : {}),
    service,
    ignorePaths: list(a(CAPTURE.ignorePaths)),
    ignoreHosts: list(a(CAPTURE.ignoreHosts)),
    ignorePorts: list(a(CAPTURE.ignorePorts))?.map((p) => int(CAPTURE.ignorePorts, p, 1, 65535)),
    ignoreSrcIps: list(a(CAPTURE.ignoreSrcIps)),
    resources,
  };
}
