/**
 * The chart on a real node: a Temporal dev server pods can reach (on 127.0.0.1 here, relayed
 * by the cluster), the install with the locally built image, and the release's pods.
 */
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { freePorts } from '../../tools/dev-cluster/net.js';
import { startDevCluster, type DevCluster } from '../../tools/dev-cluster/index.js';
import { ensureImage, type RepriseImage } from '../../tools/dev-cluster/image.js';
import { projectRoot } from '../../src/base/project-root.js';
import { ensureTemporalBinary } from '../../src/temporal/binary.js';
import { SEARCH_ATTRIBUTES } from '../../src/temporal/names.js';

export const RELEASE = 'rp';
export const RELEASE_NS = 'reprise-system';
const ROLLOUT_TIMEOUT = '240s';

export interface Pod {
  metadata: { name: string; labels: Record<string, string>; deletionTimestamp?: string };
  spec: { nodeName: string; containers: { name: string }[] };
  /** A pod not started yet has neither an IP nor container statuses. */
  status: {
    podIP?: string;
    phase?: string;
    conditions?: { type: string; status: string }[];
    containerStatuses?: { name: string; ready: boolean; restartCount: number; image: string }[];
  };
}

/** Kubernetes' own verdict on a pod: its Ready condition (every container ready; it has an IP). */
export const podReady = (pod: Pick<Pod, 'status'>): boolean =>
  pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

/** The dev server on 127.0.0.1 (it works only there), with `port` for the cluster's relay. */
export async function startTemporalForPods(): Promise<TestWorkflowEnvironment & { port: number }> {
  const [port] = await freePorts(1);
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: await ensureTemporalBinary() },
      ip: '127.0.0.1',
      port,
      searchAttributes: [...SEARCH_ATTRIBUTES],
    },
  });
  return Object.assign(env, { port });
}

async function must(cluster: DevCluster, tool: 'helm' | 'kubectl', args: string[]): Promise<string> {
  const result = await cluster[tool](args, { timeoutMs: 300_000 });
  if (result.code !== 0)
    throw new Error(`${tool} ${args.join(' ')} failed: ${result.stderr}${result.stdout}`);
  return result.stdout;
}

/** `helm install` with the local image (never pulled), then waits for every Deployment. */
export async function installChart(
  cluster: DevCluster,
  image: RepriseImage,
  temporalAddress: string,
  /** More `--set` values (KEY=VALUE). */
  sets: string[] = [],
): Promise<void> {
  await must(cluster, 'helm', [
    'install',
    RELEASE,
    path.join(projectRoot, 'charts/reprise'),
    '--namespace',
    RELEASE_NS,
    '--create-namespace',
    '--set',
    `image.repository=${image.repository}`,
    '--set',
    `image.tag=${image.tag}`,
    '--set',
    'image.pullPolicy=Never',
    '--set',
    `temporal.address=${temporalAddress}`,
    ...sets.flatMap((s) => ['--set', s]),
  ]);
  await must(cluster, 'kubectl', [
    'wait',
    '--for=condition=Available',
    'deployment',
    '--all',
    '-n',
    RELEASE_NS,
    `--timeout=${ROLLOUT_TIMEOUT}`,
  ]);
}

export async function releasePods(cluster: DevCluster): Promise<Pod[]> {
  const out = await must(cluster, 'kubectl', [
    'get',
    'pods',
    '-n',
    RELEASE_NS,
    '-l',
    `app.kubernetes.io/instance=${RELEASE}`,
    '-o',
    'json',
  ]);
  return (JSON.parse(out) as { items: Pod[] }).items;
}

/** A TrafficReplay for `kubectl apply -f -`. */
export const trafficReplayJson = (name: string, namespace: string, snapshotId: string, workload: string) =>
  JSON.stringify({
    apiVersion: 'replay.reprise.dev/v1alpha1',
    kind: 'TrafficReplay',
    metadata: { name, namespace },
    spec: { snapshotId, workloads: [{ ref: { name: workload } }] },
  });

export interface ChartCluster {
  cluster: DevCluster;
  temporal: TestWorkflowEnvironment & { port: number };
  image: RepriseImage;
  /** Cluster start with the image imported (the Temporal server starting alongside). */
  clusterMs: number;
  /** `helm install` to every Deployment Available. */
  installMs: number;
}

/** The image, a real node with it, a Temporal for pods and the chart installed against it. */
export async function startChartCluster(): Promise<ChartCluster> {
  const image = ensureImage();
  const started = Date.now();
  // Settled, not Promise.all: when one fails, the other may have started and must be stopped.
  const [clusterStart, temporalStart] = await Promise.allSettled([
    startDevCluster({ node: 'real', images: [image.archive] }),
    startTemporalForPods(),
  ]);
  if (clusterStart.status === 'rejected' || temporalStart.status === 'rejected') {
    if (clusterStart.status === 'fulfilled') await clusterStart.value.stop();
    if (temporalStart.status === 'fulfilled') await temporalStart.value.teardown();
    throw clusterStart.status === 'rejected'
      ? clusterStart.reason
      : (temporalStart as PromiseRejectedResult).reason;
  }
  const [cluster, temporal] = [clusterStart.value, temporalStart.value];
  const clusterMs = Date.now() - started;
  try {
    const relay = await cluster.relay(`127.0.0.1:${temporal.port}`);
    const installed = Date.now();
    await installChart(cluster, image, relay);
    return { cluster, temporal, image, clusterMs, installMs: Date.now() - installed };
  } catch (err) {
    await cluster.stop();
    await temporal.teardown();
    throw err;
  }
}
