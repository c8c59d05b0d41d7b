/**
 * The Helm chart charts/reprise as the real `helm` renders it, for the chart tests: the chart's
 * toggles, `helm` on its own config folders, the rendered objects, a container's environment as
 * the kubelet would give it, and the forwarder started from its rendered command line.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after } from 'node:test';
import assert from 'node:assert/strict';
import { parseAllDocuments } from 'yaml';
import { kubeToolPaths } from '../../tools/dev-cluster/index.js';
import { projectRoot } from '../../src/base/project-root.js';

export const CHART = path.join(projectRoot, 'charts/reprise');
export const RELEASE = 'rp';
export const NS = 'reprise-system';
export const FULLNAME = `${RELEASE}-reprise`;
/** Each toggle the chart offers that changes which objects exist. */
export const VARIANTS: Record<string, string[]> = {
  defaults: [],
  'inspector off': ['--set', 'inspector.enabled=false'],
  'cert-manager': ['--set', 'certManager.enabled=true'],
  'persistence, no orchestrator': [
    '--set',
    'forwarder.persistence.enabled=true',
    '--set',
    'orchestrator.enabled=false',
  ],
  's3 store': [
    '--set',
    'store.s3.bucket=reprise-snapshots',
    '--set',
    'store.s3.prefix=team-a',
    '--set',
    'store.s3.credentials.existingSecret=s3-keys',
  ],
};
/** Kinds the test API server does not know (cert-manager is not installed there). */
export const CERT_MANAGER_GROUP = 'cert-manager.io/';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [field: string]: unknown;
}
interface Webhook {
  name: string;
  failurePolicy: string;
  sideEffects: string;
  admissionReviewVersions: string[];
  timeoutSeconds: number;
  clientConfig: {
    caBundle?: string;
    service: { name: string; namespace: string; path: string; port: number };
  };
  namespaceSelector?: { matchExpressions: { key: string; operator: string; values: string[] }[] };
  rules: { resources: string[] }[];
}
export type WebhookConfiguration = K8sObject & { webhooks: Webhook[] };
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string }; secretKeyRef?: { name: string; key: string } };
}
export interface PodSpec {
  automountServiceAccountToken?: boolean;
  containers: {
    name: string;
    command: string[];
    args?: string[];
    env?: EnvVar[];
    volumeMounts?: { name: string; mountPath: string }[];
  }[];
  volumes: { name: string; persistentVolumeClaim?: { claimName: string }; emptyDir?: object }[];
}

// helm without a cluster gets its own config/cache folders: it never reads the user's.
const helmHome = mkdtempSync(path.join(tmpdir(), 'reprise-helm-'));
const helmEnv = {
  ...process.env,
  HELM_CONFIG_HOME: path.join(helmHome, 'config'),
  HELM_CACHE_HOME: path.join(helmHome, 'cache'),
  HELM_DATA_HOME: path.join(helmHome, 'data'),
  KUBECONFIG: path.join(helmHome, 'no-kubeconfig'),
};
after(() => rmSync(helmHome, { recursive: true, force: true }));

export function helm(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      kubeToolPaths().helm,
      args,
      { env: helmEnv, maxBuffer: 32 * 1024 * 1024 },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

export async function render(extra: string[] = []): Promise<{ text: string; objects: K8sObject[] }> {
  const { code, stdout, stderr } = await helm(['template', RELEASE, CHART, '--namespace', NS, ...extra]);
  assert.equal(code, 0, `helm template ${extra.join(' ')} failed:\n${stderr}`);
  const objects = parseAllDocuments(stdout)
    .map((doc) => doc.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
  return { text: stdout, objects };
}

export function find<T = K8sObject>(objects: K8sObject[], kind: string, name: string): T {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  assert.ok(found, `no ${kind} ${name} in the rendered chart`);
  return found as T;
}

export const podSpec = (deployment: K8sObject) =>
  (deployment as unknown as { spec: { template: { spec: PodSpec } } }).spec.template.spec;

/** A container's environment as the kubelet would give it (this test's stand-ins for the references). */
export function containerEnv(container: { env?: EnvVar[] }): Record<string, string> {
  const resolve = (e: EnvVar) => {
    if (e.value !== undefined) return e.value;
    if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.namespace') return NS;
    if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.name') return 'pod-0';
    if (e.valueFrom?.secretKeyRef)
      return `secret:${e.valueFrom.secretKeyRef.name}/${e.valueFrom.secretKeyRef.key}`;
    throw new Error(`${e.name}: no stand-in for ${JSON.stringify(e.valueFrom)}`);
  };
  return Object.fromEntries((container.env ?? []).map((e) => [e.name, resolve(e)]));
}

export const webhookConfigs = (objects: K8sObject[]) => ({
  mutating: find<WebhookConfiguration>(objects, 'MutatingWebhookConfiguration', FULLNAME),
  validating: find<WebhookConfiguration>(objects, 'ValidatingWebhookConfiguration', FULLNAME),
});

export type Container = PodSpec['containers'][number];

/**
 * The forwarder with its rendered flags as they are, except where this machine differs from the
 * pod (a free port, `home` for the volume); `env` over the container's rendered environment.
 */
export async function startRenderedForwarder(
  forwarder: Container,
  home: string,
  env: Record<string, string> = {},
): Promise<{ url: string; stop: () => Promise<void> }> {
  const args = (forwarder.args ?? []).map((a) =>
    a.startsWith('--port=') ? '--port=0' : a.startsWith('--home=') ? `--home=${home}` : a,
  );
  const child = spawn(process.execPath, [path.join(projectRoot, 'dist/workers/forwarder.js'), ...args], {
    env: { ...process.env, ...containerEnv(forwarder), REPRISE_HOME: home, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    await once(child, 'exit');
  };
  try {
    const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
    return { url: `http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}`, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
