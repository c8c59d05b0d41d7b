/**
 * The operator as the API server meets it in these tests: `node dist/workers/webhook.js` as a
 * local process serving HTTPS on 127.0.0.1 with a certificate minted here, the CRD applied, and
 * the chart's webhook configurations with their clientConfig.url pointing at that process
 * (real-parts.md: the API server calls a local webhook by URL with a caBundle).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseAllDocuments, stringify as toYaml } from 'yaml';
import type { DevCluster } from '../../tools/dev-cluster/index.js';
import { createClusterPki } from '../../tools/dev-cluster/certs.js';
import { projectRoot } from '../../src/base/project-root.js';
import { CRD_FILE } from '../../tools/crd/traffic-replay-crd.js';

const CHART_DIR = path.join(projectRoot, 'charts/reprise');

export interface WebhookProcess {
  child: ChildProcess;
  port: number;
  healthPort: number;
  inspectorPort: number | null;
  /** stderr so far, for failure messages. */
  logs(): string;
  /** SIGTERM, then the exit (bounded). */
  stop(): Promise<void>;
}

/** A serving certificate for 127.0.0.1 (tls.crt/tls.key in `dir`) and the CA that signed it. */
export async function writeServingCert(dir: string): Promise<{ tlsDir: string; caPem: string }> {
  // The dev cluster's PKI code mints a CA and a 127.0.0.1 serving pair: the same shape a webhook needs.
  const pki = await createClusterPki();
  const tlsDir = path.join(dir, 'tls');
  await mkdir(tlsDir, { recursive: true });
  await writeFile(path.join(tlsDir, 'tls.crt'), pki.serving.cert);
  await writeFile(path.join(tlsDir, 'tls.key'), pki.serving.key, { mode: 0o600 });
  return { tlsDir, caPem: pki.ca.cert };
}

/** The admission server on ephemeral loopback ports, serving the certificate in `tlsDir`. */
export const loopbackWebhookArgs = (tlsDir: string) => [
  '--port',
  '0',
  '--host',
  '127.0.0.1',
  '--health-port',
  '0',
  '--tls-dir',
  tlsDir,
];

export async function startWebhook(
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 60_000,
): Promise<WebhookProcess> {
  const child = spawn(process.execPath, [path.join(projectRoot, 'dist/workers/webhook.js'), ...args], {
    env: { ...process.env, REPRISE_LOG_JSON: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => {
    stderr += c.toString();
    if (process.env.REPRISE_TEST_VERBOSE) process.stderr.write(c);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`webhook not ready within ${timeoutMs} ms: ${stderr}`)),
      timeoutMs,
    );
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const msg = JSON.parse(line) as Record<string, unknown>;
      if (msg.event === 'ready') {
        clearTimeout(timer);
        resolve(msg);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`webhook exited (${code}) before it was ready: ${stderr}`));
    });
  });
  return {
    child,
    port: ready.port as number,
    healthPort: ready.healthPort as number,
    inspectorPort: ready.inspectorPort as number | null,
    logs: () => stderr,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Applies a YAML (or JSON) document with `kubectl apply -f -`, throwing with kubectl's stderr. */
/** The operator as the controller tests run it: webhooks on loopback, controller polling fast, no inspector. */
export function startControllerOperator(
  tlsDir: string,
  cluster: DevCluster,
  temporal: { address: string; namespace?: string },
  extra: { args?: string[]; env?: NodeJS.ProcessEnv } = {},
): Promise<WebhookProcess> {
  return startWebhook(
    [...loopbackWebhookArgs(tlsDir), '--no-inspector', '--poll', '300ms', ...(extra.args ?? [])],
    {
      KUBECONFIG: cluster.kubeconfigPath,
      REPRISE_IMAGE: 'reprise:test',
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_NAMESPACE: temporal.namespace ?? 'default',
      ...extra.env,
    },
  );
}

export async function apply(cluster: DevCluster, doc: unknown): Promise<void> {
  const res = await cluster.kubectl(['apply', '-f', '-'], {
    input: typeof doc === 'string' ? doc : toYaml(doc),
  });
  if (res.code !== 0) throw new Error(`kubectl apply failed: ${res.stderr}`);
}

export async function getJson<T>(cluster: DevCluster, args: string[]): Promise<T> {
  const res = await cluster.kubectl(['get', ...args, '-o', 'json']);
  if (res.code !== 0) throw new Error(`kubectl get ${args.join(' ')}: ${res.stderr}`);
  return JSON.parse(res.stdout) as T;
}

export async function installCrd(cluster: DevCluster): Promise<void> {
  const res = await cluster.kubectl(['apply', '-f', CRD_FILE]);
  if (res.code !== 0) throw new Error(`CRD not applied: ${res.stderr}`);
  const wait = await cluster.kubectl([
    'wait',
    '--for=condition=established',
    'crd/trafficreplays.replay.reprise.dev',
    '--timeout=60s',
  ]);
  if (wait.code !== 0) throw new Error(`CRD not established: ${wait.stderr}`);
}

/**
 * The chart's own webhook configurations, rendered by the real `helm template` (so the rules,
 * failure policies, namespace exclusions and timeouts are the chart's), with one change: each
 * webhook calls the webhook process on loopback by URL, with its CA, instead of the operator
 * Service that no pod runs behind here (real-parts.md).
 */
export async function registerWebhooks(cluster: DevCluster, port: number, caPem: string): Promise<void> {
  const rendered = await cluster.helm([
    'template',
    'reprise-test',
    CHART_DIR,
    '--namespace',
    'reprise-system',
    '--show-only',
    'templates/webhooks.yaml',
  ]);
  if (rendered.code !== 0) throw new Error(`helm template failed: ${rendered.stderr}`);
  const caBundle = Buffer.from(caPem).toString('base64');
  const configs = parseAllDocuments(rendered.stdout)
    .map((doc) => doc.toJS() as WebhookConfiguration | null)
    .filter((o): o is WebhookConfiguration => !!o && WEBHOOK_KINDS.includes(o.kind));
  if (configs.length !== WEBHOOK_KINDS.length)
    throw new Error(
      `the chart rendered ${configs.map((c) => c.kind).join(', ') || 'no webhook configuration'}`,
    );
  for (const config of configs) {
    for (const hook of config.webhooks) {
      const { path: hookPath } = hook.clientConfig.service ?? {};
      if (!hookPath) throw new Error(`${hook.name}: the chart gives no service path`);
      hook.clientConfig = { url: `https://127.0.0.1:${port}${hookPath}`, caBundle };
    }
    await apply(cluster, config);
  }
}

const WEBHOOK_KINDS = ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration'];

interface WebhookConfiguration {
  kind: string;
  webhooks: {
    name: string;
    clientConfig: { service?: { path?: string }; url?: string; caBundle?: string };
  }[];
}

/** A TrafficReplay in the default namespace, as the YAML a user would apply. */
export const trafficReplayYaml = (name: string, spec: Record<string, unknown>) =>
  toYaml({
    apiVersion: 'replay.reprise.dev/v1alpha1',
    kind: 'TrafficReplay',
    metadata: { name, namespace: 'default' },
    spec,
  });
