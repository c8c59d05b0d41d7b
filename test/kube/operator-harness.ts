/**
 * The operator as the API server meets it in these tests: `node dist/workers/webhook.js` as a
 * local process serving HTTPS on 127.0.0.1 with a certificate minted here, the CRD applied, and
 * webhook configurations whose clientConfig.url points at that process (real-parts.md: the API
 * server calls a local webhook by URL with a caBundle).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { stringify as toYaml } from 'yaml';
import type { DevCluster } from '../../tools/dev-cluster/index.js';
import { createClusterPki } from '../../tools/dev-cluster/certs.js';
import { projectRoot } from '../../src/base/project-root.js';

export const CRD_FILE = path.join(projectRoot, 'charts/reprise/crds/trafficreplays.yaml');

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
): Promise<WebhookProcess> {
  return startWebhook([...loopbackWebhookArgs(tlsDir), '--no-inspector', '--poll', '300ms'], {
    KUBECONFIG: cluster.kubeconfigPath,
    REPRISE_IMAGE: 'reprise:test',
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_NAMESPACE: temporal.namespace ?? 'default',
  });
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
 * The webhook configurations the chart installs, but by URL: the workload webhook with
 * failurePolicy Ignore (it must never block a deployment), the TrafficReplay ones with Fail.
 */
export async function registerWebhooks(cluster: DevCluster, port: number, caPem: string): Promise<void> {
  const base = `https://127.0.0.1:${port}`;
  const caBundle = Buffer.from(caPem).toString('base64');
  const common = { admissionReviewVersions: ['v1'], sideEffects: 'None', timeoutSeconds: 5 };
  const notSystem = {
    matchExpressions: [
      {
        key: 'kubernetes.io/metadata.name',
        operator: 'NotIn',
        values: ['kube-system', 'kube-public', 'kube-node-lease'],
      },
    ],
  };
  const replayRule = {
    apiGroups: ['replay.reprise.dev'],
    apiVersions: ['v1alpha1'],
    operations: ['CREATE', 'UPDATE'],
    resources: ['trafficreplays'],
    scope: 'Namespaced',
  };
  await apply(cluster, {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: { name: 'reprise-test' },
    webhooks: [
      {
        name: 'workloads.reprise.dev',
        ...common,
        clientConfig: { url: `${base}/mutate-workloads`, caBundle },
        failurePolicy: 'Ignore',
        reinvocationPolicy: 'Never',
        namespaceSelector: notSystem,
        rules: [
          {
            apiGroups: ['apps'],
            apiVersions: ['v1'],
            operations: ['CREATE', 'UPDATE'],
            resources: ['deployments', 'statefulsets', 'daemonsets'],
            scope: 'Namespaced',
          },
          {
            apiGroups: [''],
            apiVersions: ['v1'],
            operations: ['CREATE'],
            resources: ['pods'],
            scope: 'Namespaced',
          },
        ],
      },
      {
        name: 'mutate.trafficreplays.reprise.dev',
        ...common,
        clientConfig: { url: `${base}/mutate-trafficreplay`, caBundle },
        failurePolicy: 'Fail',
        rules: [replayRule],
      },
    ],
  });
  await apply(cluster, {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: { name: 'reprise-test' },
    webhooks: [
      {
        name: 'validate.trafficreplays.reprise.dev',
        ...common,
        clientConfig: { url: `${base}/validate-trafficreplay`, caBundle },
        failurePolicy: 'Fail',
        rules: [replayRule],
      },
    ],
  });
}
