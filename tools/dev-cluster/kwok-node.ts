/**
 * The KWOK node: KWOK plays the kubelet of one fake Node, so Deployments roll out to Ready pods
 * with nothing running. Pod IPs come from the cluster's pod range and the Node's address from
 * its link range: both guarded (guard.ts), so nothing dialled there leaves the machine.
 */
import type { ControlPlane } from './control-plane.js';
import { StartError } from './launcher.js';
import type { ClusterNetwork } from './slots.js';
import type { ControlPlaneTools } from './tools.js';

/** The Node KWOK manages; annotated so KWOK takes it (and only it). */
export const FAKE_NODE_NAME = 'kwok-node-0';
const KWOK_ANNOTATION = 'kwok.x-k8s.io/node';

const fakeNode = {
  apiVersion: 'v1',
  kind: 'Node',
  metadata: {
    name: FAKE_NODE_NAME,
    annotations: { [KWOK_ANNOTATION]: 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
    labels: {
      'kubernetes.io/hostname': FAKE_NODE_NAME,
      'kubernetes.io/os': 'linux',
      'kubernetes.io/arch': 'amd64',
      type: 'kwok',
    },
  },
  // Nodes take status on create; KWOK then keeps the conditions and lease fresh.
  status: {
    allocatable: { cpu: '32', memory: '256Gi', pods: '250' },
    capacity: { cpu: '32', memory: '256Gi', pods: '250' },
  },
};

export const isReadyNode = (body: string) =>
  (
    JSON.parse(body) as { status?: { conditions?: { type: string; status: string }[] } }
  ).status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

/** Starts KWOK and its Node; resolves once the Node is Ready. */
export async function startKwokNode(
  cp: ControlPlane,
  tools: ControlPlaneTools,
  net: ClusterNetwork,
): Promise<void> {
  const { launcher, api, paths } = cp;
  // Its log's "RequestWatchProgress is disabled" warnings are harmless: etcd 3.4 cannot
  // stream lists, and KWOK's client falls back to list + watch.
  const kwok = await launcher.start('kwok', tools.kwok, [
    `--kubeconfig=${paths.kubeconfig}`,
    `--config=${tools.kwokStages}`,
    '--manage-all-nodes=false',
    `--manage-nodes-with-annotation-selector=${KWOK_ANNOTATION}=fake`,
    '--manage-nodes-with-label-selector=',
    `--cidr=${net.podGateway}/${net.podCidr.split('/')[1]}`,
    `--node-ip=${net.nodeIp}`,
  ]);
  const created = await api.post('/api/v1/nodes', fakeNode);
  if (created.status !== 201 && created.status !== 409) {
    throw new StartError(`creating Node ${FAKE_NODE_NAME} failed: ${created.status} ${created.body}`, false);
  }
  await launcher.waitFor(
    `Node ${FAKE_NODE_NAME} to turn Ready (KWOK)`,
    async () => {
      const node = await api.get(`/api/v1/nodes/${FAKE_NODE_NAME}`);
      return node.status === 200 && isReadyNode(node.body);
    },
    kwok,
  );
}
