/**
 * A real node for the dev cluster (the recipe of ../shared/reference/real-pods.md):
 * containerd and runc from Debian, the kubelet and kube-proxy v1.35.4, a CNI bridge, and
 * CoreDNS, all in the node's own network namespace and cgroup. Pods really run: images come
 * from OCI archives imported into the node's containerd (imagePullPolicy: Never).
 *
 * Before the control plane starts: prepareRealNode (namespace, link, cgroup; each recorded in
 * state.json before it is made). After: startRealNode.
 */
import { Resolver } from 'node:dns/promises';
import path from 'node:path';
import type { ControlPlane } from '../control-plane.js';
import { isReadyNode } from '../kwok-node.js';
import { runTool } from '../run-tool.js';
import type { ClusterNetwork } from '../slots.js';
import { writeState, type ClusterState } from '../state.js';
import type { ControlPlaneTools, RealNodeTools } from '../tools.js';
import { cgroupRootOf, createCgroupRoot } from './cgroups.js';
import { cniNetworkName, ctr, importImages, writeContainerdConfig } from './containerd.js';
import { corednsManifests } from './coredns.js';
import { recordKernelTunables } from './kernel-tunables.js';
import { kubeletArgs, kubeProxyArgs, NODE_NAME, nodeLeaves } from './kubelet.js';
import { createNodeNetwork, inNodeNetns, netnsName } from './netns.js';

export { NODE_NAME, nodeLeaves };

/** The node's namespace and link, and its cgroup; recorded first, so a crash midway is undone. */
export async function prepareRealNode(state: ClusterState, net: ClusterNetwork): Promise<void> {
  state.host = {
    ...state.host,
    netns: netnsName(net.slot),
    cgroupRoot: cgroupRootOf(net.slot),
    cniNetwork: cniNetworkName(net.slot),
    kernelTunables: true,
  };
  await writeState(state);
  createNodeNetwork(net);
  createCgroupRoot(cgroupRootOf(net.slot));
  recordKernelTunables();
}

/** Starts containerd, the kubelet, kube-proxy and CoreDNS; resolves when the Node and CoreDNS are Ready. */
export async function startRealNode(
  cp: ControlPlane,
  state: ClusterState,
  tools: ControlPlaneTools & RealNodeTools,
  net: ClusterNetwork,
  env: NodeJS.ProcessEnv,
  images: string[],
): Promise<void> {
  const { launcher, api, pki, paths } = cp;
  const wrap = inNodeNetns(net.slot);
  const cd = writeContainerdConfig(state.dir, net);
  const containerd = await launcher.start('containerd', tools.containerd, ['--config', cd.config], wrap);
  await launcher.waitFor(
    'containerd to answer',
    async () => (await ctr(tools.ctr, cd.socket, ['version'], 5_000)).code === 0,
    containerd,
  );
  await importImages(tools.ctr, cd.socket, [tools.pauseImage, tools.corednsImage]);
  launcher.progress('imported the pause and CoreDNS images');
  // The caller's images (Reprise's weighs 100 MB) import while the node and CoreDNS come up.
  const imported = importImages(tools.ctr, cd.socket, images).then(() => {
    if (images.length > 0) launcher.progress(`imported ${images.length} more image(s)`);
  });
  imported.catch(() => undefined);

  const spec = {
    dir: state.dir,
    server: state.server,
    caPem: pki.ca.cert,
    caFile: path.join(paths.pki, 'ca.crt'),
    net,
    cgroupRoot: state.host!.cgroupRoot!,
    containerdSocket: cd.socket,
    leaves: pki.leaves,
  };
  const kubelet = await launcher.start('kubelet', tools.kubelet, kubeletArgs(spec), wrap);
  await launcher.start('kube-proxy', tools.kubeProxy, kubeProxyArgs(spec), wrap);

  const applied = await runTool(tools.kubectl, ['apply', '-f', '-'], env, { input: corednsManifests(net) });
  if (applied.code !== 0) throw new Error(`applying CoreDNS failed: ${applied.stderr.trim()}`);
  await launcher.waitFor(
    `Node ${NODE_NAME} to turn Ready`,
    async () => {
      const node = await api.get(`/api/v1/nodes/${NODE_NAME}`);
      return node.status === 200 && isReadyNode(node.body);
    },
    kubelet,
  );
  // Ready, and kube-proxy has written its Service's rules (a moment after the pod turns Ready).
  const resolver = new Resolver({ timeout: 1_000, tries: 1 });
  resolver.setServers([net.dnsServiceIp]);
  await launcher.waitFor(
    `CoreDNS to answer at its ClusterIP ${net.dnsServiceIp}`,
    async () => (await resolver.resolve4('kubernetes.default.svc.cluster.local')).includes(net.apiServiceIp),
    kubelet,
  );
  await imported;
}
