/**
 * The Java demo's objects in the namespace `reprise-demo` (the name payments' certificate was
 * made for): payments (HTTPS on 8443 with its self-signed certificate, Service port 443),
 * java-server (calls https://payments.reprise-demo.svc.cluster.local; annotated as a JVM and
 * for the transparent proxy, so a capture changes nothing else) and java-client Jobs. Applied
 * server-side under one field manager, so a second run puts back what the first changed (the
 * broken build's env, payments scaled to 0).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { CAPTURE, UPSTREAM_CA_KEY } from '../../src/kube/api/annotations.js';
import { ensureCa } from '../../src/tls/ca.js';
import { ensureTruststore, TRUSTSTORE_FILE } from '../../src/jvm/truststore.js';
import type { AttachedCluster } from '../../tools/dev-cluster/attach.js';

export const DEMO_NS = 'reprise-demo';
export const SERVER = 'java-server';
export const APP_PORT = 8080;
export const PAYMENTS_URL = `https://payments.${DEMO_NS}.svc.cluster.local`;
/** What java-client sends: the masking must hide it (the test checks the store). */
export const CLIENT_TOKEN = 'demo-secret-token-6f1c2a9e';
const PAYMENTS_CA = 'payments-ca';
const JAVA = '/opt/java/bin/java';
const FIELD_MANAGER = 'reprise-demo';

/** kubectl that throws with its words on failure (any cluster handle: attached or started). */
export async function kubectlOk(
  cluster: Pick<AttachedCluster, 'kubectl'>,
  args: string[],
  input?: string,
): Promise<string> {
  const r = await cluster.kubectl(args, { timeoutMs: 300_000, ...(input ? { input } : {}) });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed: ${(r.stderr + r.stdout).trim()}`);
  return r.stdout;
}

export const applyObjects = (cluster: AttachedCluster, objects: object[]) =>
  kubectlOk(
    cluster,
    ['apply', '--server-side', '--force-conflicts', `--field-manager=${FIELD_MANAGER}`, '-f', '-'],
    JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }),
  );

const envList = (env: Record<string, string>) =>
  Object.entries(env).map(([name, value]) => ({ name, value }));

function deployment(
  name: string,
  image: string,
  jar: string,
  port: number,
  env: Record<string, string>,
  annotations: Record<string, string> = {},
) {
  const labels = { app: name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: DEMO_NS, labels },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels, annotations },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [
            {
              name,
              image,
              imagePullPolicy: 'Never',
              command: [JAVA, '-jar', `/app/${jar}`],
              ports: [{ name: 'http', containerPort: port }],
              env: envList({ HOST: '0.0.0.0', PORT: String(port), ...env }),
              readinessProbe: { tcpSocket: { port }, periodSeconds: 1 },
              resources: { requests: { cpu: '50m', memory: '96Mi' }, limits: { memory: '256Mi' } },
            },
          ],
        },
      },
    },
  };
}

const service = (name: string, port: number, targetPort: number) => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: DEMO_NS },
  spec: { selector: { app: name }, ports: [{ name: 'http', port, targetPort }] },
});

/** java-server; `broken`: the build whose POST /orders answer reports a wrong totalCents. */
export const javaServer = (image: string, broken: boolean) =>
  deployment(
    SERVER,
    image,
    'java-server.jar',
    APP_PORT,
    {
      PAYMENTS_URL,
      // Without Reprise the JVM trusts payments through the app's own options.
      JAVA_TOOL_OPTIONS:
        '-Djavax.net.ssl.trustStore=/app/payments-trust.p12 -Djavax.net.ssl.trustStorePassword=changeit',
      ...(broken ? { DEMO_BROKEN: 'field' } : {}),
    },
    {
      [CAPTURE.java]: 'true',
      [CAPTURE.proxyType]: 'transparent',
      [CAPTURE.upstreamCa]: PAYMENTS_CA,
    },
  );

/**
 * The namespace, the Reprise CA Secret (`tls-out`: the sidecar decrypts the JVM's HTTPS), the
 * ConfigMap with payments' certificate (the sidecar verifies the real payments with it), payments
 * and java-server with their Services; waits for both rollouts.
 */
export async function deployDemo(
  cluster: AttachedCluster,
  image: string,
  javaBuild: string,
  broken: boolean,
): Promise<void> {
  const caDir = path.join(cluster.dir, 'demo-ca');
  const ca = await ensureCa(caDir);
  const truststore = await ensureTruststore(caDir);
  const b64 = async (file: string) => (await readFile(file)).toString('base64');
  const objects = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: DEMO_NS } },
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'reprise-ca', namespace: DEMO_NS },
      data: {
        'ca.pem': await b64(ca.certPath),
        'ca-key.pem': await b64(ca.keyPath),
        [TRUSTSTORE_FILE]: await b64(truststore),
      },
    },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: PAYMENTS_CA, namespace: DEMO_NS },
      data: { [UPSTREAM_CA_KEY]: await readFile(path.join(javaBuild, 'payments.pem'), 'utf8') },
    },
    deployment('payments', image, 'payments.jar', 8443, { PAYMENTS_KEYSTORE: '/app/payments.p12' }),
    service('payments', 443, 8443),
    javaServer(image, broken),
    service(SERVER, 80, APP_PORT),
  ];
  await applyObjects(cluster, objects);
  // The previous run's client Jobs would crowd the listing.
  await kubectlOk(cluster, ['delete', 'job', '-n', DEMO_NS, '-l', 'app=java-client', '--ignore-not-found']);
  for (const name of ['payments', SERVER])
    await kubectlOk(cluster, ['rollout', 'status', `deploy/${name}`, '-n', DEMO_NS, '--timeout=240s']);
}

export interface ClientSummary {
  requests: number;
  failures: number;
  statuses: Record<string, number>;
}

/** A java-client Job sending `count` requests to java-server's Service; its summary line. */
export async function runClient(
  cluster: AttachedCluster,
  image: string,
  name: string,
  count: number,
): Promise<ClientSummary> {
  const target = `http://${SERVER}.${DEMO_NS}.svc.cluster.local`;
  const job = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: DEMO_NS, labels: { app: 'java-client' } },
    spec: {
      backoffLimit: 0,
      ttlSecondsAfterFinished: 3600,
      template: {
        metadata: { labels: { app: 'java-client' } },
        spec: {
          restartPolicy: 'Never',
          containers: [
            {
              name: 'java-client',
              image,
              imagePullPolicy: 'Never',
              command: [JAVA, '-jar', '/app/java-client.jar'],
              args: ['--target', target, '--rate', '5', '--count', String(count), '--token', CLIENT_TOKEN],
            },
          ],
        },
      },
    },
  };
  await kubectlOk(cluster, ['apply', '-f', '-'], JSON.stringify(job));
  const done = await cluster.kubectl(
    [
      'wait',
      '-n',
      DEMO_NS,
      `job/${name}`,
      '--for=jsonpath={.status.conditions[0].status}=True',
      '--timeout=240s',
    ],
    { timeoutMs: 260_000 },
  );
  const logs = await kubectlOk(cluster, ['logs', `job/${name}`, '-n', DEMO_NS]);
  const last = logs.trim().split('\n').pop() ?? '';
  if (done.code !== 0 || !last.startsWith('{'))
    throw new Error(`the java-client Job ${name} did not finish: ${(done.stderr + logs).trim().slice(-600)}`);
  return JSON.parse(last) as ClientSummary;
}
