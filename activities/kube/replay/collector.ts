/**
 * Logs and events of a Kubernetes replay for its report: the tails of the app's, the responder's
 * and the generator's pods, and the events about their objects since the replay started (a
 * ConfigMap marks when). Bounded: a few pods, the last lines and events of each.
 */
import type { KubeObject } from '../../../src/kube/client/api.js';
import { resourcePath } from '../../../src/kube/client/api.js';
import { LABELS } from '../../../src/kube/api/annotations.js';
import type { ComponentLogs, ReplayRef } from '../../runtime.js';
import type { RuntimeContext } from '../../runtime.js';
import { objectName, replaySelector, shortId, workloadPath, type WorkloadObject } from '../common.js';
import { appState } from './app.js';
import type { ReplayCluster } from './cluster.js';

const LOG_LINES_KEPT = 200;
const EVENTS_KEPT = 200;

/** Marks when the replay's logs and events start to count (the first call's time is kept). */
export async function startCollector(k: ReplayCluster, req: ReplayRef, ctx: RuntimeContext): Promise<void> {
  await k.api.ensure(
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: k.meta(req.replayId, 'collector'),
      data: { startedAt: new Date().toISOString() },
    },
    ctx.signal,
  );
}

export async function collectLogs(
  k: ReplayCluster,
  req: ReplayRef,
  ctx: RuntimeContext,
): Promise<ComponentLogs[]> {
  const marker = await k.api.find<{ data?: { startedAt?: string } }>(
    resourcePath('ConfigMap', k.ns, objectName('collector', req.replayId)),
    ctx.signal,
  );
  const since = marker?.data?.startedAt ?? '';
  const logs: ComponentLogs[] = [];
  const state = await appState(k, req.replayId, ctx);
  if (state) {
    const w = state.workload;
    const obj = await k.api.find<WorkloadObject>(workloadPath(w), ctx.signal);
    const selector = Object.entries(obj?.spec.selector?.matchLabels ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    if (selector) logs.push(...(await podLogs(k, w.namespace, selector, `app ${w.name}`, ctx)));
    logs.push(
      await events(
        k,
        w.namespace,
        (name) => name === w.name || name.startsWith(`${w.name}-`),
        since,
        `events ${w.namespace}`,
        ctx,
      ),
    );
  }
  for (const component of ['responder', 'generator']) {
    const selector = `${replaySelector(req.replayId)},${LABELS.component}=${component}`;
    logs.push(...(await podLogs(k, k.ns, selector, component, ctx)));
  }
  const own = shortId(req.replayId);
  logs.push(await events(k, k.ns, (name) => name.includes(own), since, `events ${k.ns}`, ctx));
  return logs.filter((l) => l.lines.length > 0);
}

/** The tail of each matching pod's log; a pod whose log cannot be read says why in one line. */
export async function podLogs(
  k: ReplayCluster,
  namespace: string,
  selector: string,
  label: string,
  ctx: RuntimeContext,
): Promise<ComponentLogs[]> {
  const pods = await k.api.list(resourcePath('Pod', namespace), selector, ctx.signal);
  const out: ComponentLogs[] = [];
  for (const pod of pods.items.slice(0, 5)) {
    const name = pod.metadata!.name!;
    let lines: string[];
    try {
      const text = await k.api.request<string>('GET', `${resourcePath('Pod', namespace, name)}/log`, {
        query: { tailLines: LOG_LINES_KEPT, limitBytes: 256 * 1024 },
        text: true,
        signal: ctx.signal,
      });
      lines = text.trimEnd().split('\n').slice(-LOG_LINES_KEPT);
    } catch (err) {
      lines = [`(log unavailable: ${(err as Error).message.slice(0, 300)})`];
    }
    out.push({ name: `${label} pod ${name}`, lines });
  }
  return out;
}

async function events(
  k: ReplayCluster,
  namespace: string,
  about: (name: string) => boolean,
  since: string,
  label: string,
  ctx: RuntimeContext,
): Promise<ComponentLogs> {
  interface Event extends KubeObject {
    involvedObject?: { kind?: string; name?: string };
    reason?: string;
    message?: string;
    type?: string;
    lastTimestamp?: string;
    eventTime?: string;
  }
  const list = await k.api.list<Event>(resourcePath('Event', namespace), undefined, ctx.signal);
  const lines = list.items
    .map((e) => ({ e, at: e.lastTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp ?? '' }))
    .filter(({ e, at }) => about(e.involvedObject?.name ?? '') && at >= since)
    .sort((a, b) => a.at.localeCompare(b.at))
    .slice(-EVENTS_KEPT)
    .map(
      ({ e, at }) =>
        `${at} ${e.type ?? ''} ${e.involvedObject?.kind ?? ''}/${e.involvedObject?.name ?? ''} ${e.reason ?? ''}: ${e.message ?? ''}`,
    );
  return { name: label, lines };
}
