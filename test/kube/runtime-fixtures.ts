/**
 * Shared parts of the Kubernetes runtime tests: a snapshot with an inbound and an outbound pair,
 * a namespace + workload + Service on the test cluster, and readers of what carries a replay's
 * labels.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { FsSnapshotStore } from '../../src/store/fs-store.js';
import type { RRPair } from '../../src/model/traffic.js';
import { KubeApi, resourcePath, type KubeObject } from '../../src/kube/client/api.js';
import type { RuntimeContext } from '../../activities/runtime.js';
import { KubeReplayRuntime } from '../../activities/kube/index.js';
import { startDevCluster, type DevCluster } from '../../tools/dev-cluster/index.js';
import { startHarness, type WorkflowHarness } from '../workflows/harness.js';

/** Reprise's own namespace on the test cluster, and the namespace of the app it captures and replays. */
export const OWN_NS = 'reprise-system';
export const APP_NS = 'shop';

export const ctx = (): RuntimeContext => ({ heartbeat: () => {}, signal: new AbortController().signal });

export function kubeConfigOf(kubeconfigPath: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  return kc;
}

function pair(id: string, direction: RRPair['direction'], host: string, path: string, body: string): RRPair {
  return {
    id,
    direction,
    service: 'orders',
    protocol: 'http/1.1',
    startedAt: new Date(Date.now() - 60_000).toISOString(),
    durationMs: 1,
    request: { method: 'GET', scheme: 'http', host, port: 80, path, query: [], headers: [['host', host]] },
    response: {
      status: 200,
      headers: [['content-type', 'application/json']],
      body: { encoding: 'utf8', data: body, size: Buffer.byteLength(body), truncated: false },
    },
    tags: {},
  };
}

/** `GET /orders/1` in, and the `GET http://inventory.example/stock/1` it made, out. */
export async function writeOrdersSnapshot(home: string): Promise<string> {
  const writer = await new FsSnapshotStore(home).createWriter({ service: 'orders', source: 'capture' });
  await writer.append(pair('in-1', 'inbound', 'orders', '/orders/1', '{"id":1,"stock":3}'));
  await writer.append(pair('out-1', 'outbound', 'inventory.example', '/stock/1', '{"stock":3}'));
  return (await writer.seal()).id;
}

/** A namespace with a Deployment and its Service, rolled out. */
export async function createWorkload(
  api: KubeApi,
  namespace: string,
  name: string,
  app: { annotations?: Record<string, string>; env?: { name: string; value: string }[] } = {},
): Promise<void> {
  await api.ensure({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  await api.ensure({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels: { app: name } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name }, annotations: { 'example.com/keep': 'yes', ...app.annotations } },
        spec: {
          // KWOK honours the grace period when pods go: keep rollouts quick.
          terminationGracePeriodSeconds: 0,
          containers: [
            {
              name: 'app',
              image: 'registry.example/orders:1',
              ports: [{ containerPort: 8080 }],
              env: [{ name: 'MODE', value: 'test' }, ...(app.env ?? [])],
            },
            { name: 'metrics', image: 'registry.example/metrics:1' },
          ],
        },
      },
    },
  });
  await api.ensure({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace },
    spec: { selector: { app: name }, ports: [{ name: 'http', port: 8080, targetPort: 8080 }] },
  });
}

export const workloadJson = async (api: KubeApi, namespace: string, name: string) =>
  api.get<KubeObject & { spec: unknown }>(resourcePath('Deployment', namespace, name));

/** What the runtime tests read of a Deployment: its pod template's containers and annotations. */
export interface DeploymentShape extends KubeObject {
  spec: {
    template: {
      metadata?: { annotations?: Record<string, string> };
      spec: { containers: ContainerShape[]; hostAliases?: { ip: string; hostnames: string[] }[] };
    };
  };
  metadata: NonNullable<KubeObject['metadata']>;
}
export interface ContainerShape {
  name: string;
  env?: { name: string; value?: string }[];
  volumeMounts?: { name: string }[];
}

export const readDeployment = (api: KubeApi, namespace: string, name: string) =>
  api.get<DeploymentShape>(resourcePath('Deployment', namespace, name));

/** A container's env as name -> value. */
export const envOf = (c: ContainerShape) => Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value]));

/** `Kind/name` of every object carrying `selector` in these namespaces (pods and ReplicaSets included). */
export async function labelled(api: KubeApi, namespaces: string[], selector: string): Promise<string[]> {
  const found: string[] = [];
  for (const ns of namespaces) {
    for (const kind of ['Deployment', 'ReplicaSet', 'Pod', 'Service', 'Job', 'ConfigMap', 'Secret']) {
      const list = await api.list(resourcePath(kind, ns), selector);
      found.push(...list.items.map((o) => `${kind}/${o.metadata?.name}`));
    }
  }
  return found.sort();
}

/** A test cluster with Reprise's namespace and the `orders` workload, and a Temporal harness whose replays run on the Kubernetes runtime. */
export interface KubeReplayStage {
  cluster: DevCluster;
  api: KubeApi;
  harness: WorkflowHarness;
  /** The orders snapshot, in `home`. */
  snapshotId: string;
  /** The workload's spec before any replay touched it, as JSON. */
  specBefore: string;
}

export async function startKubeReplayStage(home: string): Promise<KubeReplayStage> {
  const cluster = await startDevCluster();
  const api = new KubeApi(kubeConfigOf(cluster.kubeconfigPath));
  await api.ensure({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: OWN_NS } });
  await createWorkload(api, APP_NS, 'orders');
  const specBefore = JSON.stringify((await workloadJson(api, APP_NS, 'orders')).spec);
  const snapshotId = await writeOrdersSnapshot(home);
  const harness = await startHarness({
    home,
    replayRuntime: new KubeReplayRuntime({
      kubeConfig: kubeConfigOf(cluster.kubeconfigPath),
      namespace: OWN_NS,
      image: 'registry.example/reprise:test',
      forwarderUrl: 'http://reprise-forwarder.reprise-system.svc:4150',
      home,
    }),
  });
  return { cluster, api, harness, snapshotId, specBefore };
}
