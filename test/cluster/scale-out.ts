/**
 * Scale-out on the real node (issue 14): the installed chart switched to the S3 store, a
 * versitygw on this machine's loopback that pods reach through the cluster's relay (as they
 * reach the Temporal dev server), with several forwarder replicas behind the one Service.
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { gunzipSync } from 'node:zlib';
import { projectRoot } from '../../src/base/project-root.js';
import { ForwarderApi } from '../../src/forwarder/client.js';
import type { CaptureCounts } from '../../src/config/capture.js';
import type { DevCluster } from '../../tools/dev-cluster/index.js';
import type { TestS3Server } from '../../tools/versitygw.js';
import { RELEASE, RELEASE_NS } from './chart-fixtures.js';
import { kubectlOk, SHOP_NS } from './shop-fixtures.js';

/** The Secret with the bucket's keys (store.s3.credentials.existingSecret). */
const S3_SECRET = 'rp-s3';
/** store.s3.prefix: the chart's objects live under this folder of the bucket. */
export const S3_PREFIX = 'cluster';
const FORWARDER = `${RELEASE}-reprise-forwarder`;
const FORWARDER_PORT = 8888;

/**
 * `helm upgrade` of the release to the S3 store with `replicas` forwarders (every other value
 * kept), then waits for the forwarder and operator rollouts.
 */
export async function upgradeToS3(cluster: DevCluster, s3: TestS3Server, replicas: number): Promise<void> {
  const endpoint = `http://${await cluster.relay(`127.0.0.1:${s3.port}`)}`;
  const env = s3.env();
  await kubectlOk(cluster, [
    ...['create', 'secret', 'generic', S3_SECRET, '-n', RELEASE_NS],
    `--from-literal=AWS_ACCESS_KEY_ID=${env.AWS_ACCESS_KEY_ID}`,
    `--from-literal=AWS_SECRET_ACCESS_KEY=${env.AWS_SECRET_ACCESS_KEY}`,
  ]);
  const sets = {
    'store.s3.bucket': s3.bucket,
    'store.s3.prefix': S3_PREFIX,
    'store.s3.endpoint': endpoint,
    'store.s3.credentials.existingSecret': S3_SECRET,
    'forwarder.replicas': String(replicas),
  };
  const upgrade = await cluster.helm(
    [
      ...['upgrade', RELEASE, path.join(projectRoot, 'charts/reprise'), '-n', RELEASE_NS, '--reuse-values'],
      ...Object.entries(sets).flatMap(([k, v]) => ['--set', `${k}=${v}`]),
    ],
    { timeoutMs: 300_000 },
  );
  if (upgrade.code !== 0) throw new Error(`helm upgrade failed: ${upgrade.stderr}${upgrade.stdout}`);
  for (const name of [FORWARDER, `${RELEASE}-reprise-operator`])
    await kubectlOk(cluster, ['rollout', 'status', `deploy/${name}`, '-n', RELEASE_NS, '--timeout=240s']);
  // A rollout is done before the old pods are gone: the old orchestrator (volume store, one
  // forwarder) must not pick up the next capture's activities while it terminates.
  for (const deadline = Date.now() + 90_000; ; await delay(500)) {
    const out = await kubectlOk(cluster, [
      ...['get', 'pods', '-n', RELEASE_NS, '-l', 'app.kubernetes.io/component in (forwarder,operator)'],
      ...['-o', 'name'],
    ]);
    const pods = out.trim().split('\n').filter(Boolean).length;
    if (pods === replicas + 1) return;
    if (Date.now() > deadline)
      throw new Error(`the old forwarder and operator pods still run after 90 s: ${out}`);
  }
}

interface PodIp {
  metadata: { name: string; deletionTimestamp?: string };
  status: {
    podIP?: string;
    phase?: string;
    conditions?: { type: string; status: string; message?: string }[];
    containerStatuses?: { state?: { waiting?: { reason?: string } } }[];
  };
}

/** Ready pods (not going away) matching `selector`, by name and IP. */
async function readyPods(cluster: DevCluster, ns: string, selector: string): Promise<PodIp[]> {
  const out = await kubectlOk(cluster, ['get', 'pods', '-n', ns, '-l', selector, '-o', 'json']);
  return (JSON.parse(out) as { items: PodIp[] }).items.filter(
    (p) =>
      !p.metadata.deletionTimestamp &&
      p.status.podIP &&
      p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
  );
}

export const forwarderPods = (cluster: DevCluster) =>
  readyPods(cluster, RELEASE_NS, 'app.kubernetes.io/component=forwarder');

/** What each forwarder replica holds of an open recording, asked directly (not through the Service). */
export async function countsPerForwarder(
  cluster: DevCluster,
  snapshotId: string,
): Promise<{ pod: string; counts: CaptureCounts }[]> {
  return Promise.all(
    (await forwarderPods(cluster)).map(async (p) => ({
      pod: p.metadata.name,
      counts: await new ForwarderApi(`http://${p.status.podIP}:${FORWARDER_PORT}`).status(
        snapshotId,
        AbortSignal.timeout(10_000),
      ),
    })),
  );
}

/** The ready pods of the shop's `app`, once there are `count` of them, each with the sidecar. */
export async function capturedPods(cluster: DevCluster, app: string, count: number): Promise<PodIp[]> {
  for (const deadline = Date.now() + 120_000; ; await delay(500)) {
    const out = await kubectlOk(cluster, ['get', 'pods', '-n', SHOP_NS, '-l', `app=${app}`, '-o', 'json']);
    const pods = (
      JSON.parse(out) as { items: (PodIp & { spec: { containers: { name: string }[] } })[] }
    ).items.filter((p) => !p.metadata.deletionTimestamp);
    const ready = pods.filter(
      (p) =>
        p.status.podIP &&
        p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') &&
        p.spec.containers.some((c) => c.name === 'reprise-sidecar'),
    );
    if (ready.length === count && pods.length === count) return ready;
    if (Date.now() > deadline) {
      const seen = pods.map((p) => ({
        name: p.metadata.name,
        containers: p.spec.containers.map((c) => c.name),
        phase: p.status.phase,
        conditions: p.status.conditions?.map((c) => `${c.type}=${c.status} ${c.message ?? ''}`.trim()),
        waiting: p.status.containerStatuses?.map((c) => c.state?.waiting?.reason ?? ''),
      }));
      throw new Error(
        `${app}: ${ready.length} of ${count} pods ready with the sidecar within 120 s: ${JSON.stringify(seen)}`,
      );
    }
  }
}

/** An object the chart's processes wrote in the bucket (under S3_PREFIX); undefined when absent. */
export async function bucketObject(s3: TestS3Server, key: string): Promise<Buffer | undefined> {
  try {
    const res = await s3
      .client()
      .send(new GetObjectCommand({ Bucket: s3.bucket, Key: `${S3_PREFIX}/${key}` }));
    return Buffer.from(await res.Body!.transformToByteArray());
  } catch (err) {
    if ((err as Error).name === 'NoSuchKey') return undefined;
    throw err;
  }
}

/** The pair ids a replay's generator replica (0-based) sent, from its observed stream in the bucket. */
export async function observedPairIds(
  s3: TestS3Server,
  replayId: string,
  replica: number,
): Promise<string[]> {
  const body = await bucketObject(s3, `replays/${replayId}/observed-${replica + 1}.ndjson.gz`);
  if (!body) throw new Error(`no observed stream of replica ${replica + 1} for replay ${replayId}`);
  return gunzipSync(body)
    .toString()
    .split('\n')
    .filter(Boolean)
    .map((line) => (JSON.parse(line) as { pairId: string }).pairId);
}

/**
 * Sends `perPod` GETs to each captured orders pod (by pod IP, in turn: request n is /orders/n,
 * so capture order is n's order) and waits until the forwarders hold their 2 pairs each; then,
 * while every sidecar ships to the same replica (each picks one when it connects, through the
 * Service: 1 chance in 9 with 3 pods and 3 replicas), replaces an orders pod, whose new sidecar
 * picks again, and sends again. Resolves with the number of requests sent (with `sentBefore`);
 * `pairsGone`: pairs held by replicas no longer there (flushed, so no longer counted live).
 */
export async function spreadOverForwarders(
  cluster: DevCluster,
  snapshotId: string,
  opts: { pods: number; perPod: number; rounds: number; sentBefore?: number; pairsGone?: number },
): Promise<number> {
  const { pods, perPod, rounds, sentBefore = 0, pairsGone = 0 } = opts;
  let sent = sentBefore;
  for (let round = 1; ; round++) {
    for (const pod of await capturedPods(cluster, 'orders', pods)) {
      for (let i = 0; i < perPod; i++) {
        const res = await fetch(`http://${pod.status.podIP}:8080/orders/${++sent}`);
        if (res.status !== 200) throw new Error(`orders ${pod.metadata.name} answered ${res.status}`);
        await res.body?.cancel();
      }
    }
    let held: Awaited<ReturnType<typeof countsPerForwarder>> = [];
    for (const deadline = Date.now() + 60_000; ; await delay(500)) {
      held = await countsPerForwarder(cluster, snapshotId);
      if (pairsGone + held.reduce((n, f) => n + f.counts.pairs, 0) >= 2 * sent) break;
      if (Date.now() > deadline)
        throw new Error(`the forwarders got ${JSON.stringify(held)} of ${2 * sent} pairs within 60 s`);
    }
    if (held.filter((f) => f.counts.pairs > 0).length >= 2) return sent;
    if (round === rounds) throw new Error(`after ${rounds} rounds every pair is on one forwarder`);
    const [first] = await capturedPods(cluster, 'orders', pods);
    await kubectlOk(cluster, ['delete', 'pod', first.metadata.name, '-n', SHOP_NS, '--wait=true']);
  }
}

/**
 * Deletes forwarder `pod` mid-capture (SIGTERM: it flushes its share) and waits until its
 * replacement is ready and has joined the open recording (at a progress poll of the capture).
 */
export async function replaceForwarder(cluster: DevCluster, pod: string, snapshotId: string): Promise<void> {
  await kubectlOk(cluster, ['delete', 'pod', pod, '-n', RELEASE_NS, '--wait=false']);
  for (const deadline = Date.now() + 120_000; ; await delay(500)) {
    const ready = (await forwarderPods(cluster)).filter((p) => p.metadata.name !== pod);
    const joined = await countsPerForwarder(cluster, snapshotId).then(
      (all) => all.length,
      () => 0,
    );
    if (ready.length === 3 && joined === 3) return;
    if (Date.now() > deadline)
      throw new Error(`no replacement of ${pod} joined the recording within 120 s (${joined} of 3)`);
  }
}
