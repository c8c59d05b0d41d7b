/**
 * The names Reprise uses on Kubernetes objects: one place, shared by the webhook (which reads
 * them), the Kubernetes runtime (which sets them) and the chart. Group `reprise.dev`, the way
 * Speedscale users know `sidecar.speedscale.com/*`.
 */

/** Workload (pod template) annotations that ask for capture; read by /mutate-workloads. */
export const CAPTURE = {
  /** `"true"` injects the sidecar; anything else (or absent) removes what Reprise injected. */
  inject: 'capture.reprise.dev/inject',
  /** `reverse` | `forward` | `dual` (default) | `transparent` (iptables init container). */
  proxyType: 'capture.reprise.dev/proxy-type',
  /** The app's port; default: the first containerPort of the app container. */
  appPort: 'capture.reprise.dev/app-port',
  /** Sidecar inbound port (default 4143). */
  inPort: 'capture.reprise.dev/in-port',
  /** Sidecar outbound (HTTP_PROXY) port (default 4140). */
  outPort: 'capture.reprise.dev/out-port',
  /** `"true"`: decrypt outbound CONNECT tunnels with the Reprise CA (mounted into the app too). */
  tlsOut: 'capture.reprise.dev/tls-out',
  /**
   * `"true"`: the app is a JVM, give it JAVA_TOOL_OPTIONS (proxy, and the truststore with tls-out);
   * `"false"`: never; absent: detected from the container (src/jvm/detect.ts).
   */
  java: 'capture.reprise.dev/java',
  /**
   * A ConfigMap of the workload's namespace whose key `ca.crt` holds extra CA certificates (PEM)
   * the sidecar trusts for the upstream side of the TLS it intercepts (a dependency with a
   * private or self-signed certificate); mounted into the sidecar as NODE_EXTRA_CA_CERTS.
   */
  upstreamCa: 'capture.reprise.dev/upstream-ca',
  /** The container whose traffic is captured; default: the first one. */
  container: 'capture.reprise.dev/container',
  /** Recorded as the pairs' service; default: the workload's name. */
  service: 'capture.reprise.dev/service',
  ignorePaths: 'capture.reprise.dev/ignore-paths',
  ignoreHosts: 'capture.reprise.dev/ignore-hosts',
  ignorePorts: 'capture.reprise.dev/ignore-ports',
  ignoreSrcIps: 'capture.reprise.dev/ignore-src-ips',
  cpuRequest: 'capture.reprise.dev/cpu-request',
  memoryRequest: 'capture.reprise.dev/memory-request',
  cpuLimit: 'capture.reprise.dev/cpu-limit',
  memoryLimit: 'capture.reprise.dev/memory-limit',
  /** Set by the webhook: what it injected (JSON), so removal and re-injection are exact and idempotent. */
  injected: 'capture.reprise.dev/injected',
} as const;

export const SIDECAR_CONTAINER = 'reprise-sidecar';
export const INIT_CONTAINER = 'reprise-init';
export const CA_VOLUME = 'reprise-ca';
export const UPSTREAM_CA_VOLUME = 'reprise-upstream-ca';
/** The key of the upstream-ca ConfigMap (the key kube-root-ca.crt and cert-manager use). */
export const UPSTREAM_CA_KEY = 'ca.crt';

/** Labels on every object Reprise creates for a replay, so teardown finds them again. */
export const LABELS = {
  managedBy: 'app.kubernetes.io/managed-by',
  component: 'app.kubernetes.io/component',
  replayId: 'replay.reprise.dev/id',
  captureId: 'capture.reprise.dev/id',
} as const;
export const MANAGED_BY = 'reprise';

/** TrafficReplay: group, version, kind as the CRD declares them. */
export const TRAFFIC_REPLAY = {
  group: 'replay.reprise.dev',
  version: 'v1alpha1',
  kind: 'TrafficReplay',
  plural: 'trafficreplays',
  shortName: 'replay',
  /** Keeps a deleted TrafficReplay until its workflow's teardown has run. */
  finalizer: 'replay.reprise.dev/teardown',
} as const;
