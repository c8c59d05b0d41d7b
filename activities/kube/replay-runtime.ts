/**
 * The Kubernetes runtime of a replay: the responder is a Deployment + Service and the generator
 * a Job in Reprise's namespace, created per replay with deterministic names and labelled with
 * the replay id; the service under test is the user's workload, patched so its outbound traffic
 * reaches the responder and restored exactly afterwards. Pods read the snapshot from the
 * forwarder's snapshot API and upload what they observed there, into the store this runtime
 * shares with the forwarder (`home`).
 *
 * Idempotent everywhere: a retry or a new worker finds the objects by name (409 on create and
 * 404 on delete are success), and the workload's original pod template is kept in a ConfigMap
 * labelled with the replay id until cleanup.
 */
import { readFile, rm } from 'node:fs/promises';
import type { KubeConfig } from '@kubernetes/client-node';
import type {
  AppConfig,
  LoadConfig,
  ReplayInput,
  ResponderConfig,
  Transform,
  WorkloadRef,
} from '../../src/config/replay.js';
import type { GeneratorSummary } from '../../src/generator/index.js';
import { pointerKey } from '../../src/kube/api/json-patch.js';
import { KubeApi, KubeApiError, resourcePath, type KubeObject } from '../../src/kube/client/api.js';
import { CA_VOLUME, LABELS } from '../../src/kube/api/annotations.js';
import { childLog } from '../../src/base/log.js';
import type { ResponderStats } from '../../src/model/replay.js';
import { workerNodeFlags } from '../../src/base/node-options.js';
import { caDir, generatorSummaryFile, observedFile } from '../../src/base/paths.js';
import { ensureCa } from '../../src/tls/ca.js';
import { FsSnapshotStore } from '../../src/store/fs-store.js';
import type { ComponentLogs, GeneratorProgress, ReplayRef, ReplayRuntime } from '../replay.js';
import { RuntimeError, type RuntimeContext } from '../runtime.js';
import {
  cancelled,
  containerIndex,
  describeWorkload,
  objectName,
  readWorkload,
  replayLabels,
  replaySelector,
  shortId,
  waitFor,
  waitForRollout,
  workloadPath,
  type PodTemplate,
  type WorkloadObject,
} from './common.js';

export interface KubeReplayRuntimeOptions {
  kubeConfig: KubeConfig;
  /** Reprise's own namespace: the responder, generator and bookkeeping objects go there. */
  namespace: string;
  /** The Reprise image (entry points in dist/workers/). */
  image: string;
  /** The forwarder as pods reach it (snapshot API, uploads). */
  forwarderUrl: string;
  /** The store the orchestrator shares with the forwarder: snapshots, observed files, summaries. */
  home: string;
  /** Bound on waits for the responder and the patched workload; default 2 min (setup allows 3). */
  readyTimeoutMs?: number;
  /** Bound on waits during teardown (restore, cleanup); default 45 s (teardown allows 1 min). */
  teardownTimeoutMs?: number;
  /** Bound on the generator Job; default 24 h (the activity's own limit). */
  generatorTimeoutMs?: number;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
}

const RESPONDER_PORT = 8080;
const CA_MOUNT = '/etc/reprise/ca';
const CONFIG_MOUNT = '/etc/reprise/config';
const LOG_LINES_KEPT = 200;
const EVENTS_KEPT = 200;
/** hostalias routing: at most this many recorded hosts are pointed at the responder. */
const MAX_ALIASED_HOSTS = 64;
/** On the patched pod template: which replay patched it (also refuses a second replay). */
const PATCHED_BY = LABELS.replayId;
const PROXY_VARS = ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy', 'NO_PROXY', 'no_proxy'];
/** Kinds a replay creates (and the ones its controllers create from them), for cleanup. */
const OWNED_KINDS = ['Job', 'Deployment', 'Service', 'ConfigMap', 'Secret', 'ReplicaSet', 'Pod'] as const;

/** The app state ConfigMap: what startApp needs to undo its patch, from any worker. */
interface AppState {
  workload: WorkloadRef;
  /** The workload's pod template as it was, JSON exactly as the API server returned it. */
  template: string;
}

export class KubeReplayRuntime implements ReplayRuntime {
  private readonly api: KubeApi;
  private readonly ns: string;
  private readonly readyTimeoutMs: number;
  private readonly teardownTimeoutMs: number;
  private readonly generatorTimeoutMs: number;
  private readonly log = childLog('kube-replay-runtime');

  constructor(readonly options: KubeReplayRuntimeOptions) {
    this.api = new KubeApi(options.kubeConfig);
    this.ns = options.namespace;
    this.readyTimeoutMs = options.readyTimeoutMs ?? 120_000;
    this.teardownTimeoutMs = options.teardownTimeoutMs ?? 45_000;
    this.generatorTimeoutMs = options.generatorTimeoutMs ?? 24 * 3600_000;
  }

  observedPath(replayId: string): string {
    return observedFile(this.options.home, replayId);
  }

  private meta(replayId: string, component: string, namespace = this.ns) {
    return { name: objectName(component, replayId), namespace, labels: replayLabels(replayId, component) };
  }

  private container(name: string, args: string[], mounts: { name: string; mountPath: string }[]) {
    return {
      name,
      image: this.options.image,
      imagePullPolicy: this.options.imagePullPolicy,
      command: ['node', ...workerNodeFlags(name), `dist/workers/${name}.js`],
      args,
      volumeMounts: mounts.map((m) => ({ ...m, readOnly: true })),
    };
  }

  // ---- responder ----

  async startResponder(
    req: ReplayRef & { snapshotId: string; config: ResponderConfig },
    ctx: RuntimeContext,
  ): Promise<{ url: string }> {
    const meta = this.meta(req.replayId, 'responder');
    const ca = await ensureCa(caDir(this.options.home));
    const caKey = await readFile(ca.keyPath, 'utf8');
    // The responder signs the hosts it answers over TLS with the Reprise CA the app is told to trust.
    await this.api.ensure(
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: this.meta(req.replayId, 'ca'),
        stringData: { 'ca.pem': ca.cert, 'ca-key.pem': caKey },
      },
      ctx.signal,
    );
    await this.api.ensure(
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: meta,
        data: { 'config.json': JSON.stringify(req.config), snapshotId: req.snapshotId },
      },
      ctx.signal,
    );
    const podLabels = { ...meta.labels, 'app.kubernetes.io/name': meta.name };
    await this.api.ensure(
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: meta,
        spec: {
          replicas: 1,
          selector: { matchLabels: { 'app.kubernetes.io/name': meta.name } },
          template: {
            metadata: { labels: podLabels },
            spec: {
              terminationGracePeriodSeconds: 5,
              containers: [
                {
                  ...this.container(
                    'responder',
                    [
                      `--snapshot=${req.snapshotId}`,
                      `--snapshot-url=${this.options.forwarderUrl}`,
                      '--host=0.0.0.0',
                      `--port=${RESPONDER_PORT}`,
                      `--config=${CONFIG_MOUNT}/config.json`,
                      `--ca-dir=${CA_MOUNT}`,
                    ],
                    [
                      { name: 'config', mountPath: CONFIG_MOUNT },
                      { name: CA_VOLUME, mountPath: CA_MOUNT },
                    ],
                  ),
                  ports: [{ name: 'http', containerPort: RESPONDER_PORT }],
                  readinessProbe: { httpGet: { path: '/__reprise/healthz', port: RESPONDER_PORT } },
                },
              ],
              volumes: [
                { name: 'config', configMap: { name: meta.name } },
                { name: CA_VOLUME, secret: { secretName: objectName('ca', req.replayId) } },
              ],
            },
          },
        },
      },
      ctx.signal,
    );
    // As a proxy (HTTP_PROXY) on 80, and as the recorded hosts themselves (hostalias) on 80 and 443.
    await this.api.ensure(
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: meta,
        spec: {
          selector: { 'app.kubernetes.io/name': meta.name },
          ports: [
            { name: 'http', port: 80, targetPort: RESPONDER_PORT },
            { name: 'https', port: 443, targetPort: RESPONDER_PORT },
          ],
        },
      },
      ctx.signal,
    );
    const ref = this.ownRef('Deployment', meta.name);
    await waitForRollout(this.api, ref, this.readyTimeoutMs, ctx);
    return { url: `http://${meta.name}.${this.ns}.svc` };
  }

  private ownRef(kind: WorkloadRef['kind'], name: string): WorkloadRef {
    return { apiVersion: 'apps/v1', kind, name, namespace: this.ns };
  }

  /** Through the API server's service proxy, so it works wherever the orchestrator runs. */
  async responderStats(req: ReplayRef, ctx: RuntimeContext): Promise<ResponderStats | undefined> {
    const name = objectName('responder', req.replayId);
    try {
      return await this.api.get<ResponderStats>(
        `${resourcePath('Service', this.ns, `${name}:http`)}/proxy/__reprise/stats`,
        ctx.signal,
      );
    } catch (err) {
      // No stats is a gap in the report, not a reason to lose the report.
      this.log.warn({ replayId: req.replayId, err: (err as Error).message }, 'responder stats unavailable');
      return undefined;
    }
  }

  async stopResponder(req: ReplayRef, ctx: RuntimeContext): Promise<void> {
    const name = objectName('responder', req.replayId);
    await this.api.remove(resourcePath('Deployment', this.ns, name), ctx.signal);
    await this.api.remove(resourcePath('Service', this.ns, name), ctx.signal);
  }

  // ---- collector ----

  /** Marks when the replay's logs and events start to count (the first call's time is kept). */
  async startCollector(req: ReplayRef, ctx: RuntimeContext): Promise<void> {
    await this.api.ensure(
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: this.meta(req.replayId, 'collector'),
        data: { startedAt: new Date().toISOString() },
      },
      ctx.signal,
    );
  }

  /** The window is closed by collecting; cleanup removes the marker with the rest. */
  async stopCollector(): Promise<void> {}

  async collectLogs(req: ReplayRef, ctx: RuntimeContext): Promise<ComponentLogs[]> {
    const marker = await this.api.find<{ data?: { startedAt?: string } }>(
      resourcePath('ConfigMap', this.ns, objectName('collector', req.replayId)),
      ctx.signal,
    );
    const since = marker?.data?.startedAt ?? '';
    const logs: ComponentLogs[] = [];
    const state = await this.appState(req.replayId, ctx);
    if (state) {
      const w = state.workload;
      const obj = await this.api.find<WorkloadObject>(workloadPath(w), ctx.signal);
      const selector = Object.entries(obj?.spec.selector?.matchLabels ?? {})
        .map(([k, v]) => `${k}=${v}`)
        .join(',');
      if (selector) logs.push(...(await this.podLogs(w.namespace, selector, `app ${w.name}`, ctx)));
      logs.push(
        await this.events(
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
      logs.push(...(await this.podLogs(this.ns, selector, component, ctx)));
    }
    const own = shortId(req.replayId);
    logs.push(await this.events(this.ns, (name) => name.includes(own), since, `events ${this.ns}`, ctx));
    return logs.filter((l) => l.lines.length > 0);
  }

  /** The tail of each matching pod's log; a pod whose log cannot be read says why in one line. */
  private async podLogs(
    namespace: string,
    selector: string,
    label: string,
    ctx: RuntimeContext,
  ): Promise<ComponentLogs[]> {
    const pods = await this.api.list(resourcePath('Pod', namespace), selector, ctx.signal);
    const out: ComponentLogs[] = [];
    for (const pod of pods.items.slice(0, 5)) {
      const name = pod.metadata!.name!;
      let lines: string[];
      try {
        const text = await this.api.request<string>('GET', `${resourcePath('Pod', namespace, name)}/log`, {
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

  private async events(
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
    const list = await this.api.list<Event>(resourcePath('Event', namespace), undefined, ctx.signal);
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

  // ---- the service under test ----

  private async appState(replayId: string, ctx: RuntimeContext): Promise<AppState | undefined> {
    const cm = await this.api.find<{ data?: Record<string, string> }>(
      resourcePath('ConfigMap', this.ns, objectName('app', replayId)),
      ctx.signal,
    );
    if (!cm?.data?.workload || !cm.data.template) return undefined;
    return { workload: JSON.parse(cm.data.workload) as WorkloadRef, template: cm.data.template };
  }

  async startApp(
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
    const targetUrl = req.targetUrl ? undefined : await this.serviceUrl(w, ctx);
    if (!req.responderUrl) return { targetUrl }; // generator-only: nothing to route

    const current = await readWorkload(this.api, w, 'target.workload', ctx);
    const mark = shortId(req.replayId);
    const patchedBy = current.spec.template.metadata?.annotations?.[PATCHED_BY];
    if (patchedBy !== undefined && patchedBy !== mark) {
      throw new RuntimeError(
        `target.workload: ${describeWorkload(w)} is routed to the responder of another replay ("${patchedBy}")`,
        'InvalidInput',
      );
    }
    // Saved before the patch, once: a retry or a new worker restores from this, never from a patched template.
    await this.api.ensure(
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: this.meta(req.replayId, 'app'),
        data: { workload: JSON.stringify(w), template: JSON.stringify(current.spec.template) },
      },
      ctx.signal,
    );
    const state = (await this.appState(req.replayId, ctx))!;
    const original = JSON.parse(state.template) as PodTemplate;
    if (patchedBy === undefined) {
      await this.ensureCaConfigMap(req.replayId, w.namespace, ctx);
      const patched = await this.routedTemplate(original, w, req, ctx);
      try {
        await this.api.jsonPatch(
          workloadPath(w),
          [
            // Only over the template that was saved: a concurrent change is refused, not overwritten.
            { op: 'test', path: '/spec/template', value: original },
            { op: 'replace', path: '/spec/template', value: patched },
          ],
          ctx.signal,
        );
      } catch (err) {
        if (err instanceof KubeApiError && err.status === 422) {
          throw new RuntimeError(
            `target.workload: ${describeWorkload(w)} changed since Reprise saved its pod template; retrying`,
            'WorkloadChanged',
            true,
          );
        }
        throw err;
      }
    }
    await waitForRollout(this.api, w, this.readyTimeoutMs, ctx);
    return { targetUrl };
  }

  /** `target.workload.service` (default: the workload's name) at `port` (default: its first). */
  private async serviceUrl(w: WorkloadRef, ctx: RuntimeContext): Promise<string> {
    const name = w.service ?? w.name;
    const svc = await this.api.find<{ spec?: { ports?: { name?: string; port: number }[] } }>(
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
  private async ensureCaConfigMap(replayId: string, namespace: string, ctx: RuntimeContext): Promise<void> {
    const ca = await ensureCa(caDir(this.options.home));
    await this.api.ensure(
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: this.meta(replayId, 'ca', namespace),
        data: { 'ca.pem': ca.cert },
      },
      ctx.signal,
    );
  }

  /** The original template with the app container's outbound traffic aimed at the responder. */
  private async routedTemplate(
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
      const hosts = await this.recordedHosts(req.replayId, ctx);
      const svc = await this.api.get<{ spec: { clusterIP: string } }>(
        resourcePath('Service', this.ns, objectName('responder', req.replayId)),
        ctx.signal,
      );
      if (hosts.length) {
        const aliases = (t.spec.hostAliases as { ip: string; hostnames: string[] }[] | undefined) ?? [];
        t.spec.hostAliases = [...aliases, { ip: svc.spec.clusterIP, hostnames: hosts }];
      }
    } else {
      for (const v of PROXY_VARS) env[v] = v.toLowerCase() === 'no_proxy' ? '' : req.responderUrl!;
    }
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
  private async recordedHosts(replayId: string, ctx: RuntimeContext): Promise<string[]> {
    const responder = await this.api.find<{ data?: { snapshotId?: string } }>(
      resourcePath('ConfigMap', this.ns, objectName('responder', replayId)),
      ctx.signal,
    );
    const snapshotId = responder?.data?.snapshotId;
    if (!snapshotId) return [];
    const manifest = await new FsSnapshotStore(this.options.home).getManifest(snapshotId);
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
  async stopApp(req: ReplayRef, ctx: RuntimeContext): Promise<void> {
    const state = await this.appState(req.replayId, ctx);
    if (!state) return;
    const w = state.workload;
    const current = await this.api.find<WorkloadObject>(workloadPath(w), ctx.signal);
    if (!current) return; // the workload was deleted: nothing to restore
    const mark = shortId(req.replayId);
    if (current.spec.template.metadata?.annotations?.[PATCHED_BY] === mark) {
      const path = `/spec/template/metadata/annotations/${pointerKey(PATCHED_BY)}`;
      await this.api.jsonPatch(
        workloadPath(w),
        [
          { op: 'test', path, value: mark },
          { op: 'replace', path: '/spec/template', value: JSON.parse(state.template) },
        ],
        ctx.signal,
      );
    }
    await waitForRollout(this.api, w, this.teardownTimeoutMs, ctx);
  }

  // ---- generator ----

  async runGenerator(
    req: ReplayRef & { snapshotId: string; targetUrl: string; load: LoadConfig; transforms: Transform[] },
    ctx: RuntimeContext,
  ): Promise<GeneratorSummary> {
    const done = await this.readSummary(req.replayId);
    if (done) return done; // a retry after the generator finished
    const jobPath = resourcePath('Job', this.ns, objectName('generator', req.replayId));
    try {
      return await this.startAndWaitForGenerator(req, ctx);
    } catch (err) {
      if (ctx.signal.aborted) {
        // Deleting the Job stops its pod (SIGTERM: the generator stops sending). Not with the
        // cancelled signal: this call must get through.
        await this.api.remove(jobPath);
        throw new RuntimeError('generator cancelled', 'Cancelled', true);
      }
      throw err;
    }
  }

  private async startAndWaitForGenerator(
    req: ReplayRef & { snapshotId: string; targetUrl: string; load: LoadConfig; transforms: Transform[] },
    ctx: RuntimeContext,
  ): Promise<GeneratorSummary> {
    const meta = this.meta(req.replayId, 'generator');
    // A Secret: transforms may carry signing keys.
    await this.api.ensure(
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: meta,
        stringData: { 'config.json': JSON.stringify({ load: req.load, transforms: req.transforms }) },
      },
      ctx.signal,
    );
    const upload = `${this.options.forwarderUrl.replace(/\/+$/, '')}/replays/${encodeURIComponent(req.replayId)}`;
    await this.api.ensure(
      {
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: meta,
        spec: {
          backoffLimit: 0,
          activeDeadlineSeconds: Math.ceil(this.generatorTimeoutMs / 1000),
          template: {
            metadata: { labels: meta.labels },
            spec: {
              restartPolicy: 'Never',
              terminationGracePeriodSeconds: 30,
              containers: [
                this.container(
                  'generator',
                  [
                    `--snapshot=${req.snapshotId}`,
                    `--snapshot-url=${this.options.forwarderUrl}`,
                    `--target=${req.targetUrl}`,
                    '--out=/tmp/observed.ndjson.gz',
                    `--config=${CONFIG_MOUNT}/config.json`,
                    `--upload-url=${upload}`,
                  ],
                  [{ name: 'config', mountPath: CONFIG_MOUNT }],
                ),
              ],
              volumes: [{ name: 'config', secret: { secretName: meta.name } }],
            },
          },
        },
      },
      ctx.signal,
    );
    const jobPath = resourcePath('Job', this.ns, meta.name);
    return waitFor<GeneratorSummary>(
      `generator Job ${this.ns}/${meta.name}`,
      async () => {
        const summary = await this.readSummary(req.replayId);
        if (summary) return { done: summary };
        const job = await this.api.find<{ status?: JobStatus }>(jobPath, ctx.signal);
        if (!job)
          throw new RuntimeError(
            `the generator Job ${this.ns}/${meta.name} disappeared`,
            'GeneratorGone',
            true,
          );
        const finished = jobFinished(job.status);
        if (finished === 'Failed') {
          const why = job.status?.conditions?.find((c) => c.type === 'Failed');
          throw new RuntimeError(
            `the generator Job ${this.ns}/${meta.name} failed: ${why?.reason ?? ''} ${why?.message ?? ''}`.trim(),
            'GeneratorFailed',
          );
        }
        if (finished === 'Complete') {
          // The generator uploads its summary before it exits: a complete Job without one has lost it.
          const late = await this.readSummary(req.replayId);
          if (late) return { done: late };
          throw new RuntimeError(
            `the generator Job finished without a summary (Job ${this.ns}/${meta.name}; it uploads to ${upload})`,
            'GeneratorFailed',
          );
        }
        return { waiting: `running (${job.status?.active ?? 0} active pods)` };
      },
      { timeoutMs: this.generatorTimeoutMs, intervalMs: 1_000 },
      ctx,
    );
  }

  private async readSummary(replayId: string): Promise<GeneratorSummary | undefined> {
    try {
      return JSON.parse(
        await readFile(generatorSummaryFile(this.options.home, replayId), 'utf8'),
      ) as GeneratorSummary;
    } catch {
      return undefined;
    }
  }

  /** The newest progress line in the generator pod's log; undefined while there is none. */
  async generatorProgress(req: ReplayRef, ctx: RuntimeContext): Promise<GeneratorProgress | undefined> {
    const logs = await this.podLogs(
      this.ns,
      `${replaySelector(req.replayId)},${LABELS.component}=generator`,
      'generator',
      ctx,
    );
    for (const { lines } of logs) {
      for (let i = lines.length - 1; i >= 0; i--) {
        if (!lines[i].includes('"event":"progress"')) continue;
        try {
          const p = JSON.parse(lines[i]) as Partial<GeneratorProgress>;
          return { sent: p.sent ?? 0, done: p.done ?? 0, errors: p.errors ?? 0 };
        } catch {
          // a cut line
        }
      }
    }
    return undefined;
  }

  // ---- cleanup ----

  /**
   * Restores the workload if a failed teardown left it patched, then deletes every object
   * labelled with the replay id (here and in the workload's namespace) and waits until they
   * are gone, pods included. `all` also removes the observed traffic; the report stays.
   */
  async cleanup(req: ReplayRef & { cleanup: ReplayInput['cleanup'] }, ctx: RuntimeContext): Promise<void> {
    if (req.cleanup === 'none') return;
    await this.stopApp(req, ctx);
    const state = await this.appState(req.replayId, ctx);
    const namespaces = [...new Set([this.ns, ...(state ? [state.workload.namespace] : [])])];
    const selector = replaySelector(req.replayId);
    const leftovers = async () => {
      const found: KubeObject[] = [];
      for (const namespace of namespaces) {
        // Beside the workload a replay only puts ConfigMaps (the CA); RBAC allows no more there.
        for (const kind of namespace === this.ns ? OWNED_KINDS : (['ConfigMap'] as const)) {
          const list = await this.api.list(resourcePath(kind, namespace), selector, ctx.signal);
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
      await this.api.remove(resourcePath(o.kind!, o.metadata!.namespace, o.metadata!.name), ctx.signal);
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
      { timeoutMs: this.teardownTimeoutMs, intervalMs: 500 },
      ctx,
    );
    if (req.cleanup === 'all') await rm(this.observedPath(req.replayId), { force: true });
  }
}

interface JobStatus {
  active?: number;
  succeeded?: number;
  failed?: number;
  conditions?: { type: string; status: string; reason?: string; message?: string }[];
}

function jobFinished(s: JobStatus | undefined): 'Complete' | 'Failed' | undefined {
  const c = s?.conditions ?? [];
  if (c.some((x) => x.type === 'Failed' && x.status === 'True')) return 'Failed';
  if (c.some((x) => x.type === 'Complete' && x.status === 'True')) return 'Complete';
  return undefined;
}
