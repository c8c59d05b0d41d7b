/** What the TrafficReplay admission checks against the cluster and the store, for real. */
import { KubernetesObjectApi, type KubeConfig } from '@kubernetes/client-node';
import type { SnapshotStore } from '../../store/types.js';
import { apiMessage, statusOf } from '../client/client-node.js';
import type { ReplayLookups } from './admission.js';

/** Lookups against the real API server and the snapshot store (absent: not checked). */
export function realLookups(kc: KubeConfig, store?: Pick<SnapshotStore, 'exists'>): ReplayLookups {
  const objects = KubernetesObjectApi.makeApiClient(kc);
  return {
    snapshotExists: store ? (id) => store.exists(id) : undefined,
    async workloadExists(ref) {
      try {
        await objects.read({
          apiVersion: 'apps/v1',
          kind: ref.kind,
          metadata: { name: ref.name, namespace: ref.namespace },
        });
        return 'found';
      } catch (err) {
        if (statusOf(err) === 404) return 'missing';
        return { error: apiMessage(err) };
      }
    },
  };
}
