/**
 * The controller's reads and writes of TrafficReplay objects through the API server: get, merge
 * patches of metadata (finalizers) and of the status subresource, delete.
 */
import {
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { TRAFFIC_REPLAY } from '../api/annotations.js';
import type { TrafficReplay, TrafficReplayStatus } from '../api/traffic-replay.js';
import { statusOf } from '../client/client-node.js';

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

export class TrafficReplays {
  private readonly api: CustomObjectsApi;

  constructor(kc: KubeConfig) {
    this.api = kc.makeApiClient(CustomObjectsApi);
  }

  /** Every TrafficReplay in the cluster (the informer's list). */
  list() {
    const { group, version, plural } = TRAFFIC_REPLAY;
    return this.api.listClusterCustomObject({ group, version, plural }) as Promise<{
      items: KubernetesObject[];
    }>;
  }

  async get(namespace: string, name: string): Promise<TrafficReplay | undefined> {
    const { group, version, plural } = TRAFFIC_REPLAY;
    try {
      return (await this.api.getNamespacedCustomObject({
        group,
        version,
        plural,
        namespace,
        name,
      })) as TrafficReplay;
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
  }

  /** A merge patch carrying resourceVersion: a concurrent writer makes it fail with 409 (retried). */
  async patchMeta(cr: TrafficReplay, metadata: Record<string, unknown>): Promise<void> {
    const { group, version, plural } = TRAFFIC_REPLAY;
    await this.api.patchNamespacedCustomObject(
      {
        group,
        version,
        plural,
        namespace: cr.metadata.namespace!,
        name: cr.metadata.name,
        body: { metadata: { ...metadata, resourceVersion: cr.metadata.resourceVersion } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  }

  async patchStatus(namespace: string, name: string, status: TrafficReplayStatus): Promise<void> {
    const { group, version, plural } = TRAFFIC_REPLAY;
    await this.api.patchNamespacedCustomObjectStatus(
      { group, version, plural, namespace, name, body: { status } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  }

  async writeStatus(cr: TrafficReplay, status: TrafficReplayStatus): Promise<void> {
    if (same(cr.status ?? {}, status)) return;
    // Merge patch: a field set to null is removed (message once the problem is gone).
    const body: Record<string, unknown> = { ...status };
    for (const k of Object.keys(cr.status ?? {})) if (!(k in status)) body[k] = null;
    await this.patchStatus(cr.metadata.namespace!, cr.metadata.name, body as TrafficReplayStatus);
  }

  /** Gone already counts as deleted. */
  async delete(cr: TrafficReplay): Promise<void> {
    const { group, version, plural } = TRAFFIC_REPLAY;
    await this.api
      .deleteNamespacedCustomObject({
        group,
        version,
        plural,
        namespace: cr.metadata.namespace!,
        name: cr.metadata.name,
      })
      .catch((err: unknown) => {
        if (statusOf(err) !== 404) throw err;
      });
  }
}
