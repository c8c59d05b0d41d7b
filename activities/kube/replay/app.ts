/**
 * The service under test in a Kubernetes replay: the user's workload, patched so its outbound
 * traffic reaches the responder (HTTP_PROXY, or hostAliases for the recorded hosts) and the app
 * trusts the Reprise CA, and restored exactly afterwards. Its original pod template is saved in
 * a ConfigMap before the patch, so a retry or a new worker restores from it, never from a
 * patched template; the patch is refused when the workload changed meanwhile.
 */
import type { AppConfig, WorkloadRef } from '../../../src/config/replay.js';
import { pointerKey } from '../../../src/kube/api/json-patch.js';
import { KubeApiError, resourcePath } from '../../../src/kube/client/api.js';
import { CA_VOLUME, LABELS } from '../../../src/kube/api/annotations.js';
import { caDir } from '../../../src/base/paths.js';
import { ensureCa } from '../../../src/tls/ca.js';
import { jvmReplayOptions } from '../../../src/jvm/pod.js';
import { repriseTruststore, TRUSTSTORE_FILE } from '../../../src/jvm/truststore.js';
import { openSnapshotStore } from '../../../src/store/open.js';
import type { ReplayRef } from '../../runtime.js';
import { RuntimeError, type RuntimeContext } from '../../runtime.js';
import {
  containerIndex,
  describeWorkload,
  objectName,
  readWorkload,
  shortId,
  waitForRollout,
  workloadPath,
  type PodTemplate,
  type WorkloadObject,
} from '../common.js';
import { CA_MOUNT, type ReplayCluster } from './cluster.js';
import { waitForOldPodsGone } from './old-pods.js';

/** hostalias routing: at most this many recorded hosts are pointed at the responder. */
const MAX_ALIASED_HOSTS = 64;
/** On the patched pod template: which replay patched it (also refuses a second replay). */
const PATCHED_BY = LABELS.replayId;
const PROXY_VARS = ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy', 'NO_PROXY', 'no_proxy'];

/** The app state ConfigMap: what startApp needs to undo its patch, from any worker. */
export interface AppState {
  workload: WorkloadRef;
  /** The workload's pod template as it was, JSON exactly as the API server returned it. */
  template: string;
}

export async function appState(
  k: ReplayCluster,
  replayId: string,
  ctx: RuntimeContext,
): Promise<AppState | undefined> {
  const cm = await k.api.find<{ data?: Record<string, string> }>(
    resourcePath('ConfigMap', k.ns, objectName('app', replayId)),
    ctx.signal,
  );
  if (!cm?.data?.workload || !cm.data.template) return undefined;
  return { workload: JSON.parse(cm.data.workload) as WorkloadRef, template: cm.data.template };
}

export async function startApp(
  k: ReplayCluster,
  req: ReplayRef & { app?: AppConfig; workload?: WorkloadRef; targetUrl?: string; responderUrl?: string },
  ctx: RuntimeContext,
): Promise<{ targetUrl?: string }> {
  const w = req.workload;
  if (!w) {
    throw new RuntimeError(
      'target.app: the Kubernetes runtime does not start local apps; give target.workload (or target.url alone)',
      'InvalidInput',
    );
  }
  // Before anything changes: where the generator will send (a missing Service fails here).
  const targetUrl = req.targetUrl ? undefined : await serviceUrl(k, w, ctx);
  if (!req.responderUrl) return { targetUrl }; // generator-only: nothing to route

  const current = await readWorkload(k.api, w, 'target.workload', ctx);
  const mark = shortId(req.replayId);
  const patchedBy = current.spec.template.metadata?.annotations?.[PATCHED_BY];
  if (patchedBy !== undefined && patchedBy !== mark) {
    throw new RuntimeError(
      `target.workload: ${describeWorkload(w)} is routed to the responder of another replay ("${patchedBy}")`,
      'InvalidInput',
    );
  }
  // Saved before the patch, once: a retry or a new worker restores from this, never from a patched template.
  await k.api.ensure(
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: k.meta(req.replayId, 'app'),
      data: { workload: JSON.stringify(w), template: JSON.stringify(current.spec.template) },
    },
    ctx.signal,
  );
  const state = (await appState(k, req.replayId, ctx))!;
  const original = JSON.parse(state.template) as PodTemplate;
  if (patchedBy === undefined) {
    await ensureCaConfigMap(k, req.replayId, w.namespace, ctx);
    const patched = await routedTemplate(k, original, w, req, ctx);
    try {
      await k.api.jsonPatch(
        workloadPath(w),
        [
          // Only over the template that was saved: a concurrent change is refused, not overwritten.
          { op: 'test', path: '/spec/template', value: original },
          { op: 'replace', path: '/spec/template', value: patched },
        ],
        ctx.signal,
      );
    } catch (err) {
      // 422 is both a failed `test` (a concurrent change: retry; the API says no more than
      // "rejected") and a routed template the API refuses ("... is invalid: field"; no retry helps).
      if (err instanceof KubeApiError && err.status === 422 && !/ is invalid: /.test(err.message)) {
        throw new RuntimeError(
          `target.workload: ${describeWorkload(w)} changed since Reprise saved its pod template; retrying`,
          'WorkloadChanged',
          true,
        );
      }
      if (err instanceof KubeApiError && err.status === 422) {
        throw new RuntimeError(
          `target.workload: routing ${describeWorkload(w)} to the responder was refused by the API server: ${err.message}`,
          'InvalidInput',
        );
      }
      throw err;
    }
  }
  await waitForRollout(k.api, w, k.readyTimeoutMs, ctx);
  await waitForOldPodsGone(k, w, k.readyTimeoutMs, ctx);
  return { targetUrl };
}

/** `target.workload.service` (default: the workload's name) at `port` (default: its first). */
async function serviceUrl(k: ReplayCluster, w: WorkloadRef, ctx: RuntimeContext): Promise<string> {
  const name = w.service ?? w.name;
  const svc = await k.api.find<{ spec?: { ports?: { name?: string; port: number }[] } }>(
    resourcePath('Service', w.namespace, name),
    ctx.signal,
  );
  if (!svc) {
    throw new RuntimeError(
      `target.workload.service: Service ${w.namespace}/${name} not found; name the workload's Service, or give target.url`,
      'InvalidInput',
    );
  }
  const ports = svc.spec?.ports ?? [];
  const port = w.port === undefined ? ports[0] : ports.find((p) => p.port === w.port);
  if (!port) {
    throw new RuntimeError(
      `target.workload.port: Service ${w.namespace}/${name} has no port ${w.port ?? ''} (it has ${ports.map((p) => p.port).join(', ') || 'none'})`,
      'InvalidInput',
    );
  }
  const scheme = port.port === 443 || port.name === 'https' ? 'https' : 'http';
  return `${scheme}://${name}.${w.namespace}.svc:${port.port}`;
}

/** The Reprise CA certificate (not its key) where the app's pods can mount it. */
async function ensureCaConfigMap(
  k: ReplayCluster,
  replayId: string,
  namespace: string,
  ctx: RuntimeContext,
): Promise<void> {
  const ca = await ensureCa(caDir(k.options.home));
  await k.api.ensure(
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: k.meta(replayId, 'ca', namespace),
      data: { 'ca.pem': ca.cert },
      // For JVMs (JAVA_TOOL_OPTIONS): the CA and the public roots as a Java truststore.
      binaryData: { [TRUSTSTORE_FILE]: repriseTruststore(ca.cert).toString('base64') },
    },
    ctx.signal,
  );
}

/** The original template with the app container's outbound traffic aimed at the responder. */
async function routedTemplate(
  k: ReplayCluster,
  original: PodTemplate,
  w: WorkloadRef,
  req: ReplayRef & { responderUrl?: string },
  ctx: RuntimeContext,
): Promise<PodTemplate> {
  const t = structuredClone(original);
  const i = containerIndex(t, w.container, 'target.workload.container');
  const c = t.spec.containers[i];
  const env: Record<string, string> = { NODE_EXTRA_CA_CERTS: `${CA_MOUNT}/ca.pem` };
  if (w.routing === 'hostalias') {
    const hosts = await recordedHosts(k, req.replayId, ctx);
    const svc = await k.api.get<{ spec: { clusterIP: string } }>(
      resourcePath('Service', k.ns, objectName('responder', req.replayId)),
      ctx.signal,
    );
    if (hosts.length) {
      const aliases = (t.spec.hostAliases as { ip: string; hostnames: string[] }[] | undefined) ?? [];
      t.spec.hostAliases = [...aliases, { ip: svc.spec.clusterIP, hostnames: hosts }];
    }
  } else {
    for (const v of PROXY_VARS) env[v] = v.toLowerCase() === 'no_proxy' ? '' : req.responderUrl!;
  }
  const jvm = jvmReplayOptions(t, c, w.routing === 'hostalias' ? undefined : req.responderUrl);
  if (jvm) env[jvm.name] = jvm.value!;
  c.env = [
    ...(c.env ?? []).filter((e) => !(e.name in env)),
    ...Object.entries(env).map(([name, value]) => ({ name, value })),
  ];
  const mounts = (c.volumeMounts as { name: string; mountPath: string }[] | undefined) ?? [];
  c.volumeMounts = [...mounts, { name: CA_VOLUME, mountPath: CA_MOUNT, readOnly: true }];
  const volumes = (t.spec.volumes as object[] | undefined) ?? [];
  t.spec.volumes = [...volumes, { name: CA_VOLUME, configMap: { name: objectName('ca', req.replayId) } }];
  t.metadata = {
    ...t.metadata,
    annotations: { ...t.metadata?.annotations, [PATCHED_BY]: shortId(req.replayId) },
  };
  return t;
}

/** The outbound hosts of the snapshot (from its manifest's endpoints), without IP literals. */
async function recordedHosts(k: ReplayCluster, replayId: string, ctx: RuntimeContext): Promise<string[]> {
  const responder = await k.api.find<{ data?: { snapshotId?: string } }>(
    resourcePath('ConfigMap', k.ns, objectName('responder', replayId)),
    ctx.signal,
  );
  const snapshotId = responder?.data?.snapshotId;
  if (!snapshotId) return [];
  const manifest = await openSnapshotStore(k.options.home).getManifest(snapshotId);
  const hosts = new Set<string>();
  for (const e of manifest.endpoints) {
    if (e.direction !== 'outbound') continue;
    const host = e.host.replace(/:\d+$/, '');
    if (/^[\d.]+$/.test(host) || host.includes(':') || !host) continue;
    hosts.add(host);
  }
  return [...hosts].slice(0, MAX_ALIASED_HOSTS);
}

/**
 * Puts the saved template back, exactly, when this replay's patch is still on the workload,
 * and waits for that rollout. Called twice, or by a new worker: finds nothing left to undo.
 */
export async function stopApp(k: ReplayCluster, req: ReplayRef, ctx: RuntimeContext): Promise<void> {
  const state = await appState(k, req.replayId, ctx);
  if (!state) return;
  const w = state.workload;
  const current = await k.api.find<WorkloadObject>(workloadPath(w), ctx.signal);
  if (!current) return; // the workload was deleted: nothing to restore
  const mark = shortId(req.replayId);
  if (current.spec.template.metadata?.annotations?.[PATCHED_BY] === mark) {
    const path = `/spec/template/metadata/annotations/${pointerKey(PATCHED_BY)}`;
    await k.api.jsonPatch(
      workloadPath(w),
      [
        { op: 'test', path, value: mark },
        { op: 'replace', path: '/spec/template', value: JSON.parse(state.template) },
      ],
      ctx.signal,
    );
  }
  await waitForRollout(k.api, w, k.teardownTimeoutMs, ctx);
}
