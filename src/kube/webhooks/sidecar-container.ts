/**
 * The containers injection adds: the capture sidecar (the Reprise image running
 * dist/workers/sidecar.js with the workload's capture settings) and, in transparent mode, the
 * iptables init container. The CA Secret is mounted at CA_DIR for the sidecar.
 */
import type { V1Container } from '@kubernetes/client-node';
import {
  CA_VOLUME,
  INIT_CONTAINER,
  SIDECAR_CONTAINER,
  UPSTREAM_CA_KEY,
  UPSTREAM_CA_VOLUME,
} from '../api/annotations.js';
import type { CaptureConfig, InjectOptions } from './capture-config.js';

export const CA_DIR = '/etc/reprise/ca';
export const CA_CERT_PATH = `${CA_DIR}/ca.pem`;
export const UPSTREAM_CA_DIR = '/etc/reprise/upstream-ca';
/** The sidecar's uid in transparent mode, so iptables can leave its own traffic alone. */
const SIDECAR_UID = 1337;

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

export function sidecarContainer(c: CaptureConfig, opts: InjectOptions): V1Container {
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
  };
  const mounts = [
    ...(c.tlsOut ? [{ name: CA_VOLUME, mountPath: CA_DIR, readOnly: true }] : []),
    ...(c.upstreamCa ? [{ name: UPSTREAM_CA_VOLUME, mountPath: UPSTREAM_CA_DIR, readOnly: true }] : []),
  ];
  if (mounts.length) container.volumeMounts = mounts;
  // Node adds these to its roots for every TLS client, the sidecar's upstream connections included.
  if (c.upstreamCa)
    container.env = [{ name: 'NODE_EXTRA_CA_CERTS', value: `${UPSTREAM_CA_DIR}/${UPSTREAM_CA_KEY}` }];
  if (opts.imagePullPolicy) container.imagePullPolicy = opts.imagePullPolicy;
  return container;
}

/** Inbound to the app port goes to the sidecar; its own connections to the app (loopback) do not. */
export function initContainer(c: CaptureConfig, opts: InjectOptions): V1Container {
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
