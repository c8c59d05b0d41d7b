/**
 * The replay step: the real payments is scaled to 0, a TrafficReplay of the snapshot routes
 * java-server's calls to a responder answering from the recording while a generator replays
 * the recorded requests; the verdict and the report come back on the resource's status.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { AttachedCluster } from '../../tools/dev-cluster/attach.js';
import { DEMO_NS, kubectlOk, SERVER } from './app.js';
import { RELEASE_NS, reportFile } from './snapshot.js';

export interface ReplayStatus {
  verdict?: string;
  reportPath?: string;
  message?: string;
  conditions?: { type: string; status: string; reason: string; message?: string }[];
}

export interface ReplayStep {
  name: string;
  status: ReplayStatus;
  /** `kubectl get pods` of the demo namespace and of the replay's pods while the generator ran. */
  pods: string;
  /** The replay pods' components seen running (responder, generator). */
  ran: string[];
  /** report.html and report.json copied out of the orchestrator, in `dir`. */
  reportDir?: string;
  /** The report's reason for the verdict. */
  reason?: string;
  /** `ENDPOINT FIELD` of every difference that is not noise. */
  failedFields: string[];
}

interface ReportView {
  verdictReason?: string;
  diffs?: { endpoint: string; diffs: { path: string; noise?: boolean }[] }[];
}

/** What a person reads first in the report: why, and which fields differ. */
async function findings(reportDir: string | undefined): Promise<Pick<ReplayStep, 'reason' | 'failedFields'>> {
  if (!reportDir) return { failedFields: [] };
  const report = JSON.parse(await readFile(path.join(reportDir, 'report.json'), 'utf8')) as ReportView;
  const fields = new Set<string>();
  for (const d of report.diffs ?? [])
    for (const x of d.diffs) if (!x.noise) fields.add(`${d.endpoint} ${x.path}`);
  return { reason: report.verdictReason, failedFields: [...fields].sort() };
}

const REPLAY_BOUND_MS = 600_000;
const MANAGED = 'app.kubernetes.io/managed-by=reprise';

export async function stopPayments(cluster: AttachedCluster): Promise<void> {
  await kubectlOk(cluster, ['scale', 'deploy/payments', '-n', DEMO_NS, '--replicas=0']);
  await kubectlOk(cluster, [
    'wait',
    '--for=delete',
    'pod',
    '-l',
    'app=payments',
    '-n',
    DEMO_NS,
    '--timeout=120s',
  ]);
}

interface PodItem {
  metadata: { labels?: Record<string, string> };
  status: { phase: string };
}

export async function replayJavaServer(
  cluster: AttachedCluster,
  snapshotId: string,
  runId: string,
  reportsDir: string,
): Promise<ReplayStep> {
  const name = `java-server-${runId}`;
  const cr = {
    apiVersion: 'replay.reprise.dev/v1alpha1',
    kind: 'TrafficReplay',
    metadata: { name, namespace: DEMO_NS },
    spec: { snapshotId, timeout: '10m', workloads: [{ ref: { name: SERVER } }] },
  };
  await kubectlOk(cluster, ['apply', '-f', '-'], JSON.stringify(cr));
  const ran = new Set<string>();
  let pods = '';
  for (const deadline = Date.now() + REPLAY_BOUND_MS; ; await delay(1000)) {
    const items = (
      JSON.parse(
        await kubectlOk(cluster, ['get', 'pods', '-n', RELEASE_NS, '-l', MANAGED, '-o', 'json']),
      ) as {
        items: PodItem[];
      }
    ).items;
    const running = items
      .filter((p) => ['Running', 'Succeeded'].includes(p.status.phase))
      .map((p) => p.metadata.labels?.['app.kubernetes.io/component'] ?? '?');
    running.forEach((c) => ran.add(c));
    // The listing a person would take: the first moment the generator runs (the responder is up by then).
    if (
      !pods &&
      items.some(
        (p) =>
          p.metadata.labels?.['app.kubernetes.io/component'] === 'generator' && p.status.phase === 'Running',
      )
    )
      pods = await listing(cluster);
    const view = JSON.parse(
      await kubectlOk(cluster, ['get', 'trafficreplay', name, '-n', DEMO_NS, '-o', 'json']),
    ) as { status?: ReplayStatus };
    const ready = view.status?.conditions?.find((c) => c.type === 'Ready');
    if (view.status?.verdict && ready && ready.reason !== 'InProgress') {
      const reportDir = view.status.reportPath
        ? await copyReport(cluster, view.status.reportPath, path.join(reportsDir, name))
        : undefined;
      return {
        name,
        status: view.status,
        pods: pods || (await listing(cluster)),
        ran: [...ran].sort(),
        reportDir,
        ...(await findings(reportDir)),
      };
    }
    if (Date.now() > deadline)
      throw new Error(
        `TrafficReplay ${name} gave no verdict within ${REPLAY_BOUND_MS / 1000} s: ${JSON.stringify(view.status)}`,
      );
  }
}

async function listing(cluster: AttachedCluster): Promise<string> {
  const app = await kubectlOk(cluster, ['get', 'pods', '-n', DEMO_NS]);
  const replay = await kubectlOk(cluster, ['get', 'pods', '-n', RELEASE_NS, '-l', MANAGED]);
  return `$ kubectl get pods -n ${DEMO_NS}\n${app.trimEnd()}\n$ kubectl get pods -n ${RELEASE_NS} -l ${MANAGED}\n${replay.trimEnd()}`;
}

/** The report lives in the orchestrator's volume; a copy here is what a person opens. */
async function copyReport(cluster: AttachedCluster, reportPath: string, dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  for (const file of ['report.html', 'report.json'])
    await writeFile(path.join(dir, file), await reportFile(cluster, reportPath, file));
  return dir;
}
