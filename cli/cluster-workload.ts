/**
 * `--workload deploy/NAME [-n NS]`: a workload of the cluster in KUBECONFIG, captured or
 * replayed through the Temporal that Reprise's chart in that cluster points at. Everything is
 * checked before a workflow starts, each problem one line naming the flag:
 *  - the kubeconfig: KUBECONFIG, else ~/.kube/config, as kubectl does;
 *  - the namespace (-n, else the context's, else `default`) and the workload exist;
 *  - the Temporal: TEMPORAL_ADDRESS when set (a port-forward, say), else the TEMPORAL_* env of
 *    the `orchestrator` container in the chart's forwarder Deployment (label
 *    app.kubernetes.io/component=forwarder): the worker that runs the workflows polls there.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { InvalidArgumentError } from 'commander';
import { KubeConfig } from '@kubernetes/client-node';
import type { WorkloadRef } from '../src/config/replay.js';
import { KubeApi, KubeApiError, resourcePath } from '../src/kube/client/api.js';
import { CliError, UsageError } from './errors.js';
import { firstLine } from './failures.js';

type WorkloadKind = WorkloadRef['kind'];

const KIND_NAMES: Record<string, WorkloadKind> = {
  deploy: 'Deployment',
  deployment: 'Deployment',
  deployments: 'Deployment',
  sts: 'StatefulSet',
  statefulset: 'StatefulSet',
  statefulsets: 'StatefulSet',
  ds: 'DaemonSet',
  daemonset: 'DaemonSet',
  daemonsets: 'DaemonSet',
};

const KUBE_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

export interface WorkloadFlag {
  kind: WorkloadKind;
  name: string;
  /** As typed, for messages. */
  text: string;
}

/** Commander parser of `--workload`: `deploy/NAME` (also deployment/, sts/, ds/). */
export function workloadFlag(value: string): WorkloadFlag {
  const [kindText, name, ...rest] = value.split('/');
  const kind = KIND_NAMES[kindText?.toLowerCase() ?? ''];
  if (!kind || !name || rest.length || !KUBE_NAME.test(name))
    throw new InvalidArgumentError(
      `expected KIND/NAME such as deploy/checkout (KIND: deploy, sts or ds), got "${value}"`,
    );
  return { kind, name, text: value };
}

export function namespaceFlag(value: string): string {
  if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(value))
    throw new InvalidArgumentError(
      `expected a namespace name (lowercase letters, digits, '-'), got "${value}"`,
    );
  return value;
}

export interface ClusterWorkload {
  ref: { kind: WorkloadKind; name: string; namespace: string };
  /** The API server's URL, for messages. */
  server: string;
  /** TEMPORAL_* for resolveTemporal: the chart's, or this process's own when TEMPORAL_ADDRESS is set. */
  temporalEnv: NodeJS.ProcessEnv;
  /** Where the Temporal address came from, for messages. */
  temporalSource: string;
}

function loadKubeConfig(env: NodeJS.ProcessEnv): KubeConfig {
  const file = env.KUBECONFIG?.split(path.delimiter).find(Boolean) ?? path.join(homedir(), '.kube', 'config');
  if (!existsSync(file)) {
    throw new UsageError(
      env.KUBECONFIG
        ? `--workload: KUBECONFIG names ${file}, which does not exist`
        : `--workload needs a cluster: KUBECONFIG is not set and ${file} does not exist; point KUBECONFIG at your cluster's kubeconfig`,
    );
  }
  const kc = new KubeConfig();
  try {
    kc.loadFromFile(file);
  } catch (err) {
    throw new UsageError(
      `--workload: cannot read the kubeconfig ${file}: ${firstLine((err as Error).message)}`,
    );
  }
  if (!kc.getCurrentCluster())
    throw new UsageError(`--workload: the kubeconfig ${file} has no current cluster (check current-context)`);
  return kc;
}

/** A failure to talk to the API server (not a 404, which callers word themselves) as one line. */
function unreachable(server: string, err: unknown): CliError {
  const why = err instanceof KubeApiError ? err.message : firstLine((err as Error).message);
  return new CliError(`--workload: the Kubernetes API server at ${server} (KUBECONFIG) answered: ${why}`);
}

async function mustExist(api: KubeApi, server: string, p: string, missing: () => string): Promise<void> {
  let found;
  try {
    found = await api.find(p);
  } catch (err) {
    throw unreachable(server, err);
  }
  if (!found) throw new UsageError(missing());
}

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: unknown;
}
interface ChartDeployment {
  metadata: { name: string; namespace: string };
  spec: { template: { spec: { containers: { name: string; env?: EnvVar[] }[] } } };
}

/** TEMPORAL_* of the chart's orchestrator, found by its labels in any namespace. */
async function chartTemporal(
  api: KubeApi,
  server: string,
): Promise<{ env: NodeJS.ProcessEnv; source: string }> {
  let items: ChartDeployment[];
  try {
    ({ items } = await api.request<{ items: ChartDeployment[] }>('GET', resourcePath('Deployment'), {
      query: { labelSelector: 'app.kubernetes.io/part-of=reprise,app.kubernetes.io/component=forwarder' },
    }));
  } catch (err) {
    throw unreachable(server, err);
  }
  const found = items.flatMap((d) =>
    d.spec.template.spec.containers
      .filter((c) => c.name === 'orchestrator')
      .map((c) => ({
        source: `deploy/${d.metadata.name} in ${d.metadata.namespace}, container orchestrator`,
        c,
      })),
  );
  if (found.length === 0)
    throw new CliError(
      `--workload: no Reprise orchestrator in the cluster at ${server} (no Deployment labelled ` +
        'app.kubernetes.io/component=forwarder with an orchestrator container): install charts/reprise, or set TEMPORAL_ADDRESS',
    );
  if (found.length > 1)
    throw new CliError(
      `--workload: ${found.length} Reprise orchestrators in the cluster (${found.map((f) => f.source).join('; ')}): ` +
        'set TEMPORAL_ADDRESS (and TEMPORAL_NAMESPACE) to the one to use',
    );
  const { source, c } = found[0];
  const env: NodeJS.ProcessEnv = {};
  for (const v of c.env ?? []) {
    if (!v.name.startsWith('TEMPORAL_')) continue;
    // A Secret (API key) or a mounted file (TLS) cannot be read from here.
    if (v.value === undefined || v.name.endsWith('_PATH'))
      throw new CliError(
        `--workload: the chart's Temporal (${source}) takes ${v.name} from a Secret or a file; ` +
          'set TEMPORAL_ADDRESS and the TEMPORAL_* credentials yourself',
      );
    env[v.name] = v.value;
  }
  if (!env.TEMPORAL_ADDRESS)
    throw new CliError(`--workload: the chart's orchestrator (${source}) has no TEMPORAL_ADDRESS`);
  return { env, source: `TEMPORAL_ADDRESS of ${source}` };
}

/** Checks the cluster, the namespace, the workload and finds the Temporal; one line per problem. */
export async function resolveClusterWorkload(
  workload: WorkloadFlag,
  namespace: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ClusterWorkload> {
  const kc = loadKubeConfig(env);
  const server = kc.getCurrentCluster()!.server;
  const api = new KubeApi(kc);
  const contextNs = kc.getContextObject(kc.getCurrentContext())?.namespace;
  const ns = namespace ?? contextNs ?? 'default';
  const nsFlag = namespace
    ? `-n ${ns}`
    : `namespace ${ns} (${contextNs ? "the context's" : 'the default'}; set -n)`;
  await mustExist(
    api,
    server,
    resourcePath('Namespace', undefined, ns),
    () => `${nsFlag}: no such namespace in the cluster at ${server}`,
  );
  await mustExist(
    api,
    server,
    resourcePath(workload.kind, ns, workload.name),
    () => `--workload ${workload.text}: no ${workload.kind} "${workload.name}" in namespace ${ns}`,
  );
  const temporal = env.TEMPORAL_ADDRESS
    ? { env, source: 'TEMPORAL_ADDRESS' }
    : await chartTemporal(api, server);
  return {
    ref: { kind: workload.kind, name: workload.name, namespace: ns },
    server,
    temporalEnv: temporal.env,
    temporalSource: temporal.source,
  };
}

/** The chart's Temporal (never an embedded one: its worker would not be the cluster's). */
export async function connectClusterTemporal(cw: ClusterWorkload) {
  const { resolveTemporal } = await import('./resolve-temporal.js');
  try {
    return await resolveTemporal({
      env: cw.temporalEnv,
      needsLastingServer: `--workload: no Temporal from ${cw.temporalSource}`,
    });
  } catch (err) {
    if (!(err instanceof CliError) || cw.temporalSource === 'TEMPORAL_ADDRESS') throw err;
    throw new CliError(
      `--workload: cannot reach the chart's Temporal at ${cw.temporalEnv.TEMPORAL_ADDRESS} (${cw.temporalSource}) ` +
        'from this machine; port-forward it and set TEMPORAL_ADDRESS to the forwarded address',
      1,
      err.details,
    );
  }
}
