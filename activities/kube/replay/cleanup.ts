/** Cleanup of a Kubernetes replay: every object labelled with its id, here and beside the workload. */
import { rm } from 'node:fs/promises';
import type { ReplayInput } from '../../../src/config/replay.js';
import { resourcePath, type KubeObject } from '../../../src/kube/client/api.js';
import type { ReplayRef } from '../../runtime.js';
import type { RuntimeContext } from '../../runtime.js';
import { cancelled, objectName, replaySelector, waitFor } from '../common.js';
import { appState, stopApp } from './app.js';
import type { ReplayCluster } from './cluster.js';

/** Kinds a replay creates (and the ones its controllers create from them), for cleanup. */
const OWNED_KINDS = ['Job', 'Deployment', 'Service', 'ConfigMap', 'Secret', 'ReplicaSet', 'Pod'] as const;

/**
 * Restores the workload if a failed teardown left it patched, then deletes every object
 * labelled with the replay id (here and in the workload's namespace) and waits until they
 * are gone, pods included. `all` also removes the observed traffic; the report stays.
 */
export async function cleanup(
  k: ReplayCluster,
  req: ReplayRef & { cleanup: ReplayInput['cleanup'] },
  ctx: RuntimeContext,
): Promise<void> {
  if (req.cleanup === 'none') return;
  await stopApp(k, req, ctx);
  const state = await appState(k, req.replayId, ctx);
  const namespaces = [...new Set([k.ns, ...(state ? [state.workload.namespace] : [])])];
  const selector = replaySelector(req.replayId);
  const leftovers = async () => {
    const found: KubeObject[] = [];
    for (const namespace of namespaces) {
      // Beside the workload a replay only puts ConfigMaps (the CA); RBAC allows no more there.
      for (const kind of namespace === k.ns ? OWNED_KINDS : (['ConfigMap'] as const)) {
        const list = await k.api.list(resourcePath(kind, namespace), selector, ctx.signal);
        found.push(...list.items.map((o) => ({ ...o, kind })));
      }
    }
    return found;
  };
  // The app state goes last: until then a new worker can still restore the workload.
  const isState = (o: KubeObject) =>
    o.kind === 'ConfigMap' && o.metadata?.name === objectName('app', req.replayId);
  for (const o of (await leftovers()).sort((a, b) => Number(isState(a)) - Number(isState(b)))) {
    if (o.kind === 'ReplicaSet' || o.kind === 'Pod') continue; // their owners' deletion takes them
    cancelled(ctx, 'cleanup');
    await k.api.remove(resourcePath(o.kind!, o.metadata!.namespace, o.metadata!.name), ctx.signal);
  }
  await waitFor(
    `cleanup of replay ${req.replayId}`,
    async () => {
      const left = await leftovers();
      return left.length === 0
        ? { done: undefined }
        : {
            waiting: `${left.length} left: ${left
              .slice(0, 5)
              .map((o) => `${o.kind}/${o.metadata?.name}`)
              .join(', ')}`,
          };
    },
    { timeoutMs: k.teardownTimeoutMs, intervalMs: 500 },
    ctx,
  );
  if (req.cleanup === 'all') await rm(k.observedPath(req.replayId), { force: true });
}
