/**
 * The node agents' configuration files: the kubelet's KubeletConfiguration and kube-proxy's
 * KubeProxyConfiguration, each with a kubeconfig for its own identity (system:node:NAME,
 * system:kube-proxy), and the command lines that start them in the node's namespace.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify as toYaml } from 'yaml';
import { CLIENT_AUTH, type LeafSpec, type Pem } from '../certs.js';
import { kubeconfigYaml } from '../files.js';
import type { ClusterNetwork } from '../slots.js';

export const NODE_NAME = 'reprise-node';

/** The client certificates the node's components and the API server's kubelet client need. */
export const nodeLeaves: Record<string, LeafSpec> = {
  kubelet: { subject: `CN=system:node:${NODE_NAME}, O=system:nodes`, usage: CLIENT_AUTH },
  'kube-proxy': { subject: 'CN=system:kube-proxy', usage: CLIENT_AUTH },
  'apiserver-kubelet-client': {
    subject: 'CN=kube-apiserver-kubelet-client, O=system:masters',
    usage: CLIENT_AUTH,
  },
};

export interface NodeAgentSpec {
  dir: string;
  server: string;
  caPem: string;
  caFile: string;
  net: ClusterNetwork;
  cgroupRoot: string;
  containerdSocket: string;
  leaves: Record<string, Pem>;
}

/** Writes the kubelet's files; returns its arguments. */
export function kubeletArgs(spec: NodeAgentSpec): string[] {
  const root = path.join(spec.dir, 'node');
  mkdirSync(root, { recursive: true });
  const kubeconfig = path.join(root, 'kubelet.kubeconfig');
  writeFileSync(kubeconfig, kubeconfigYaml(spec.server, spec.caPem, spec.leaves.kubelet), { mode: 0o600 });
  const config = path.join(root, 'kubelet.yaml');
  writeFileSync(
    config,
    toYaml({
      apiVersion: 'kubelet.config.k8s.io/v1beta1',
      kind: 'KubeletConfiguration',
      // 1.35 refuses cgroup v1 unless told; this machine has only v1.
      failCgroupV1: false,
      // containerd 1.6 lacks the RuntimeConfig call: the kubelet logs it and uses this.
      cgroupDriver: 'cgroupfs',
      cgroupRoot: spec.cgroupRoot,
      containerRuntimeEndpoint: `unix://${spec.containerdSocket}`,
      authentication: {
        anonymous: { enabled: false },
        webhook: { enabled: true },
        x509: { clientCAFile: spec.caFile },
      },
      authorization: { mode: 'Webhook' },
      clusterDNS: [spec.net.dnsServiceIp],
      clusterDomain: 'cluster.local',
      // Pods get no resolver of this machine: names outside the cluster do not resolve.
      resolvConf: '',
      failSwapOn: false,
      // Imported images can never be pulled again: never collect them.
      imageGCHighThresholdPercent: 100,
      imageGCLowThresholdPercent: 99,
      evictionHard: {
        'memory.available': '50Mi',
        'nodefs.available': '1%',
        'nodefs.inodesFree': '1%',
        'imagefs.available': '1%',
      },
      podLogsDir: path.join(spec.dir, 'pod-logs'),
      readOnlyPort: 0,
      healthzBindAddress: '127.0.0.1',
      serializeImagePulls: false,
    }),
  );
  return [
    `--config=${config}`,
    `--kubeconfig=${kubeconfig}`,
    `--root-dir=${path.join(spec.dir, 'kubelet')}`,
    `--node-ip=${spec.net.nodeIp}`,
    `--hostname-override=${NODE_NAME}`,
  ];
}

/** Writes kube-proxy's files; returns its arguments. */
export function kubeProxyArgs(spec: NodeAgentSpec): string[] {
  const root = path.join(spec.dir, 'node');
  mkdirSync(root, { recursive: true });
  const kubeconfig = path.join(root, 'kube-proxy.kubeconfig');
  writeFileSync(kubeconfig, kubeconfigYaml(spec.server, spec.caPem, spec.leaves['kube-proxy']), {
    mode: 0o600,
  });
  const config = path.join(root, 'kube-proxy.yaml');
  writeFileSync(
    config,
    toYaml({
      apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
      kind: 'KubeProxyConfiguration',
      mode: 'iptables',
      clusterCIDR: spec.net.podCidr,
      hostnameOverride: NODE_NAME,
      clientConnection: { kubeconfig },
      // Zero: leave the machine-wide conntrack sysctls alone.
      conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' },
      metricsBindAddress: '127.0.0.1:10249',
      healthzBindAddress: '127.0.0.1:10256',
    }),
  );
  return [`--config=${config}`];
}
