/**
 * A sealed snapshot as the demo shows it: read from the chart's forwarder (its Service is
 * reachable from this machine through the node's link) and summed up per endpoint.
 */
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { RRPair } from '../../src/model/traffic.js';
import type { AttachedCluster } from '../../tools/dev-cluster/attach.js';
import { kubectlOk } from './app.js';

export const RELEASE = 'rp';
export const RELEASE_NS = 'reprise-system';
/** A demo snapshot is a few dozen pairs; this bounds a surprise. */
const MAX_TRAFFIC_BYTES = 64 << 20;

export async function forwarderUrl(cluster: AttachedCluster): Promise<string> {
  const ip = await kubectlOk(cluster, [
    ...['get', 'svc', '-n', RELEASE_NS, `${RELEASE}-reprise-forwarder`],
    ...['-o', 'jsonpath={.spec.clusterIP}'],
  ]);
  return `http://${ip}:8888`;
}

export async function snapshotPairs(forwarder: string, snapshotId: string): Promise<RRPair[]> {
  const res = await fetch(`${forwarder}/snapshots/${snapshotId}/traffic`, {
    signal: AbortSignal.timeout(60_000),
  });
  if (res.status !== 200) throw new Error(`the forwarder answered ${res.status} for snapshot ${snapshotId}`);
  const text = gunzipSync(Buffer.from(await res.arrayBuffer()), {
    maxOutputLength: MAX_TRAFFIC_BYTES,
  }).toString();
  return text
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as RRPair);
}

export interface ManifestEndpoint {
  direction: string;
  method: string;
  host: string;
  path: string;
  count: number;
}

/** The snapshot's endpoints with their counts, as its manifest lists them. */
export async function snapshotEndpoints(forwarder: string, snapshotId: string): Promise<ManifestEndpoint[]> {
  const res = await fetch(`${forwarder}/snapshots/${snapshotId}/manifest`, {
    signal: AbortSignal.timeout(30_000),
  });
  if (res.status !== 200)
    throw new Error(`the forwarder answered ${res.status} for snapshot ${snapshotId}'s manifest`);
  return ((await res.json()) as { endpoints: ManifestEndpoint[] }).endpoints;
}

/** A file of a replay's report folder (`reportPath`'s), read in the orchestrator container. */
export async function reportFile(
  cluster: Pick<AttachedCluster, 'kubectl'>,
  reportPath: string,
  file: string,
): Promise<string> {
  const pod = await kubectlOk(cluster, [
    ...['get', 'pods', '-n', RELEASE_NS, '-l', 'app.kubernetes.io/component=forwarder'],
    ...['-o', 'jsonpath={.items[0].metadata.name}'],
  ]);
  const remote = `${path.posix.dirname(reportPath)}/${file}`;
  return kubectlOk(cluster, ['exec', '-n', RELEASE_NS, pod, '-c', 'orchestrator', '--', 'cat', remote]);
}
