/**
 * The app the end-to-end tests capture and replay on the real node: test/cluster/shop/shop.mjs
 * (plain node:http, not Reprise) in images built by scripts/cluster/test-images.sh. `orders`
 * answers GET /orders/:id by asking `inventory` through HTTP_PROXY; a `client` Job sends GETs to
 * the orders Service. The orders template carries `proxy-type: transparent`, so a capture needs
 * no change to the Service: the init container (the iptables image) sends the app port's
 * inbound traffic to the sidecar.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { projectRoot } from '../../src/base/project-root.js';
import type { DevCluster } from '../../tools/dev-cluster/index.js';

export const SHOP_NS = 'shop';
export const SHOP_IMAGE = 'localhost/reprise-e2e-shop:1';
/** The same app with SHOP_VARIANT=changed baked in: `status` answers differently. */
export const SHOP_IMAGE_CHANGED = 'localhost/reprise-e2e-shop:2';
export const INIT_IMAGE = 'localhost/reprise-iptables:1';
export const APP_PORT = 8080;
export const INVENTORY_URL = `http://inventory.${SHOP_NS}.svc.cluster.local`;

/** Builds (or finds cached) the test images; returns their OCI archives. */
export function ensureTestImages(): string[] {
  const script = path.join(projectRoot, 'scripts/cluster/test-images.sh');
  const run = spawnSync('bash', [script], { encoding: 'utf8', timeout: 900_000 });
  if (run.status !== 0)
    throw new Error(`${script} failed (${run.error?.message ?? `exit ${run.status}`}):\n${run.stderr}`);
  return run.stdout.trim().split('\n');
}

export async function kubectlOk(cluster: DevCluster, args: string[], input?: string): Promise<string> {
  const r = await cluster.kubectl(args, { timeoutMs: 300_000, ...(input ? { input } : {}) });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

function deployment(role: string, image: string, env: Record<string, string>, annotations = {}) {
  const labels = { app: role };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: role, namespace: SHOP_NS, labels },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels, annotations: { 'example.com/owner': 'shop-team', ...annotations } },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [
            {
              name: role,
              image,
              imagePullPolicy: 'Never',
              ports: [{ name: 'http', containerPort: APP_PORT }],
              env: Object.entries({ SHOP_ROLE: role, ...env }).map(([name, value]) => ({ name, value })),
              readinessProbe: { tcpSocket: { port: APP_PORT }, periodSeconds: 1 },
            },
          ],
        },
      },
    },
  };
}

function service(name: string) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: SHOP_NS },
    spec: { selector: { app: name }, ports: [{ name: 'http', port: 80, targetPort: APP_PORT }] },
  };
}

/** The namespace, inventory and orders (Deployments and Services), rolled out. */
export async function deployShop(cluster: DevCluster): Promise<void> {
  const objects = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: SHOP_NS } },
    deployment('inventory', SHOP_IMAGE, {}),
    service('inventory'),
    deployment(
      'orders',
      SHOP_IMAGE,
      { INVENTORY_URL },
      // The user's choice for this workload: how a capture reaches its inbound traffic.
      { 'capture.reprise.dev/proxy-type': 'transparent' },
    ),
    service('orders'),
  ];
  await kubectlOk(
    cluster,
    ['apply', '-f', '-'],
    JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }),
  );
  for (const name of ['inventory', 'orders'])
    await kubectlOk(cluster, ['rollout', 'status', `deploy/${name}`, '-n', SHOP_NS, '--timeout=180s']);
}

/** Runs a client Job sending `count` GETs to the orders Service; resolves with its summary line. */
export async function runClient(
  cluster: DevCluster,
  name: string,
  count: number,
): Promise<{ requests: number; failures: number; statuses: Record<string, number> }> {
  const job = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: SHOP_NS },
    spec: {
      backoffLimit: 0,
      template: {
        spec: {
          restartPolicy: 'Never',
          containers: [
            {
              name: 'client',
              image: SHOP_IMAGE,
              imagePullPolicy: 'Never',
              env: [
                { name: 'SHOP_ROLE', value: 'client' },
                { name: 'SHOP_TARGET', value: `http://orders.${SHOP_NS}.svc.cluster.local` },
                { name: 'SHOP_COUNT', value: String(count) },
              ],
            },
          ],
        },
      },
    },
  };
  await kubectlOk(cluster, ['apply', '-f', '-'], JSON.stringify(job));
  for (const deadline = Date.now() + 180_000; ; await delay(500)) {
    const status = JSON.parse(
      await kubectlOk(cluster, ['get', 'job', name, '-n', SHOP_NS, '-o', 'jsonpath={.status}']),
    ) as { succeeded?: number; failed?: number };
    if (status.succeeded || status.failed) break;
    if (Date.now() > deadline) throw new Error(`the client Job ${name} did not finish within 180 s`);
  }
  const logs = await kubectlOk(cluster, ['logs', `job/${name}`, '-n', SHOP_NS]);
  return JSON.parse(logs.trim().split('\n').pop()!) as {
    requests: number;
    failures: number;
    statuses: Record<string, number>;
  };
}

export interface PodView {
  metadata: { name: string; deletionTimestamp?: string };
  spec: { containers: { name: string }[]; initContainers?: { name: string }[] };
  status: { phase: string; containerStatuses?: { name: string; ready: boolean }[] };
}

/** The workload's pods that are not going away. */
export async function livePods(cluster: DevCluster, app: string, namespace = SHOP_NS): Promise<PodView[]> {
  const out = await kubectlOk(cluster, ['get', 'pods', '-n', namespace, '-l', `app=${app}`, '-o', 'json']);
  return (JSON.parse(out) as { items: PodView[] }).items.filter((p) => !p.metadata.deletionTimestamp);
}

export async function templateJson(cluster: DevCluster, name: string): Promise<string> {
  return kubectlOk(cluster, ['get', 'deploy', name, '-n', SHOP_NS, '-o', 'jsonpath={.spec.template}']);
}
