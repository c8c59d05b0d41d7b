/**
 * The control plane, the envtest way plus the controllers envtest leaves out: etcd,
 * kube-apiserver, kube-controller-manager and kube-scheduler, on loopback for a KWOK node, or
 * on the host's end of a real node's link (pods must reach the `kubernetes` Service's
 * endpoint, and a node's kubelet the API server).
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { createClusterPki, type ClusterPki, type LeafSpec } from './certs.js';
import { apiClient, writeClusterFiles, type ApiClient, type ClusterPaths } from './files.js';
import { Launcher, type StartLimits } from './launcher.js';
import { fetchText, freePorts } from './net.js';
import type { ClusterNetwork } from './slots.js';
import { writeState, type ClusterState } from './state.js';
import type { ControlPlaneTools } from './tools.js';

export interface ControlPlaneSpec {
  network: ClusterNetwork;
  /** Where the API server listens and what it advertises. */
  address: string;
  /** A real kubelet: Node authorization, ServiceAccount tokens, kubelet client certificate. */
  realNode: boolean;
  /** Certificates the node's components need, signed by the same CA. */
  leaves?: Record<string, LeafSpec>;
}

export interface ControlPlane {
  pki: ClusterPki;
  paths: ClusterPaths;
  api: ApiClient;
  launcher: Launcher;
  /** Resolves once the controller manager and the scheduler answer and the default ServiceAccount exists. */
  ready(): Promise<void>;
}

export async function bootControlPlane(
  state: ClusterState,
  tools: ControlPlaneTools,
  limits: StartLimits,
  spec: ControlPlaneSpec,
): Promise<ControlPlane> {
  const net = spec.network;
  const pki = await createClusterPki({
    servingIps: [...new Set([spec.address, net.apiServiceIp].filter((ip) => ip !== '127.0.0.1'))],
    leaves: spec.leaves,
  });
  // A previous attempt's etcd data belongs to another member URL.
  rmSync(path.join(state.dir, 'etcd'), { recursive: true, force: true });
  const [etcdPort, etcdPeerPort, kcmPort, schedulerPort] = await freePorts(4);
  const [apiPort] = await freePorts(1, spec.address);
  state.ports = {
    etcd: etcdPort,
    etcdPeer: etcdPeerPort,
    apiserver: apiPort,
    controllerManager: kcmPort,
    scheduler: schedulerPort,
  };
  state.server = `https://${spec.address}:${apiPort}`;
  const paths = writeClusterFiles(state.dir, pki, state.server);
  const pkiFile = (name: string) => path.join(paths.pki, name);
  const launcher = new Launcher(state, paths.logs, limits);
  await writeState(state);

  const etcdUrl = `http://127.0.0.1:${etcdPort}`;
  const etcdPeerUrl = `http://127.0.0.1:${etcdPeerPort}`;
  const etcd = await launcher.start('etcd', tools.etcd, [
    '--name=default',
    `--data-dir=${path.join(state.dir, 'etcd')}`,
    `--listen-client-urls=${etcdUrl}`,
    `--advertise-client-urls=${etcdUrl}`,
    `--listen-peer-urls=${etcdPeerUrl}`,
    `--initial-advertise-peer-urls=${etcdPeerUrl}`,
    `--initial-cluster=default=${etcdPeerUrl}`,
    '--logger=zap',
    '--log-level=warn',
  ]);
  await launcher.waitFor(
    `etcd to answer on ${etcdUrl}/health`,
    async () => /"health":\s*"true"/.test((await fetchText(`${etcdUrl}/health`)).body),
    etcd,
  );

  const nodeFlags = spec.realNode
    ? [
        '--authorization-mode=Node,RBAC',
        // For `kubectl logs` and `exec`: the API server calls the kubelet with this identity.
        `--kubelet-client-certificate=${pkiFile('apiserver-kubelet-client.crt')}`,
        `--kubelet-client-key=${pkiFile('apiserver-kubelet-client.key')}`,
        // By its address: the node's name resolves nowhere (and must not be asked of this machine's resolver).
        '--kubelet-preferred-address-types=InternalIP',
      ]
    : [
        '--authorization-mode=RBAC',
        // Pods need no token volume (no kubelet mounts one), so they never wait for a ServiceAccount.
        '--disable-admission-plugins=ServiceAccount',
      ];
  const apiserver = await launcher.start('kube-apiserver', tools.kubeApiserver, [
    `--etcd-servers=${etcdUrl}`,
    `--bind-address=${spec.address}`,
    `--advertise-address=${spec.address}`,
    `--secure-port=${apiPort}`,
    `--cert-dir=${paths.pki}`,
    `--tls-cert-file=${pkiFile('apiserver.crt')}`,
    `--tls-private-key-file=${pkiFile('apiserver.key')}`,
    `--client-ca-file=${pkiFile('ca.crt')}`,
    `--service-account-issuer=${state.server}`,
    `--service-account-key-file=${pkiFile('sa.pub')}`,
    `--service-account-signing-key-file=${pkiFile('sa.key')}`,
    `--service-cluster-ip-range=${net.serviceCidr}`,
    '--allow-privileged=true',
    ...nodeFlags,
  ]);
  const api = apiClient(state.server, pki);
  await launcher.waitFor(
    `kube-apiserver ${state.server}/readyz`,
    async () => (await api.get('/readyz')).status === 200,
    apiserver,
  );

  // One admin kubeconfig for the components too: a test cluster needs no separate identities.
  const kubeconfigFlags = ['kubeconfig', 'authentication-kubeconfig', 'authorization-kubeconfig'].map(
    (flag) => `--${flag}=${paths.kubeconfig}`,
  );
  const controllerManager = await launcher.start('kube-controller-manager', tools.kubeControllerManager, [
    ...kubeconfigFlags,
    `--service-account-private-key-file=${pkiFile('sa.key')}`,
    `--root-ca-file=${pkiFile('ca.crt')}`,
    `--cluster-signing-cert-file=${pkiFile('ca.crt')}`,
    `--cluster-signing-key-file=${pkiFile('ca.key')}`,
    `--service-cluster-ip-range=${net.serviceCidr}`,
    '--leader-elect=false',
    '--bind-address=127.0.0.1',
    `--secure-port=${kcmPort}`,
    '--controllers=*',
  ]);
  const scheduler = await launcher.start('kube-scheduler', tools.kubeScheduler, [
    ...kubeconfigFlags,
    '--leader-elect=false',
    '--bind-address=127.0.0.1',
    `--secure-port=${schedulerPort}`,
  ]);

  // The components' own health endpoints are self-signed and open to anyone on /healthz.
  const healthz = (port: number) => async () =>
    (await fetchText(`https://127.0.0.1:${port}/healthz`, { rejectUnauthorized: false })).status === 200;
  const ready = async () => {
    await Promise.all([
      launcher.waitFor(
        `kube-controller-manager /healthz on :${kcmPort}`,
        healthz(kcmPort),
        controllerManager,
      ),
      launcher.waitFor(`kube-scheduler /healthz on :${schedulerPort}`, healthz(schedulerPort), scheduler),
      // Created by kube-controller-manager's serviceaccount controller; manifests assume it.
      launcher.waitFor(
        'the default ServiceAccount in namespace default',
        async () => (await api.get('/api/v1/namespaces/default/serviceaccounts/default')).status === 200,
        controllerManager,
      ),
    ]);
  };
  return { pki, paths, api, launcher, ready };
}
