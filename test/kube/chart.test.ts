/**
 * The Helm chart charts/reprise with the real `helm` and `kubectl`: lint, render, schema, and an
 * install into the dev cluster (a real kube-apiserver; KWOK plays the kubelet, so no Reprise
 * container really runs and the chart's service-based webhooks are unreachable). That is the
 * situation the chart must survive: a webhook nobody answers must not block a deployment, and
 * `helm uninstall` must leave no webhook behind.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAllDocuments } from 'yaml';
import { kubeToolPaths, startDevCluster, type DevCluster } from '../../tools/dev-cluster/index.js';
import { parseWebhookConfig } from '../../src/kube/webhooks/config.js';
import { workerNodeFlags } from '../../src/base/node-options.js';
import { projectRoot } from '../../src/base/project-root.js';
import { openSnapshotStore } from '../../src/store/open.js';
import { TestS3Server } from '../../tools/versitygw.js';

const CHART = path.join(projectRoot, 'charts/reprise');
const RELEASE = 'rp';
const NS = 'reprise-system';
const FULLNAME = `${RELEASE}-reprise`;
/** Each toggle the chart offers that changes which objects exist. */
const VARIANTS: Record<string, string[]> = {
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
const CERT_MANAGER_GROUP = 'cert-manager.io/';

interface K8sObject {
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
type WebhookConfiguration = K8sObject & { webhooks: Webhook[] };
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string }; secretKeyRef?: { name: string; key: string } };
}
interface PodSpec {
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

function helm(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
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

async function render(extra: string[] = []): Promise<{ text: string; objects: K8sObject[] }> {
  const { code, stdout, stderr } = await helm(['template', RELEASE, CHART, '--namespace', NS, ...extra]);
  assert.equal(code, 0, `helm template ${extra.join(' ')} failed:\n${stderr}`);
  const objects = parseAllDocuments(stdout)
    .map((doc) => doc.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
  return { text: stdout, objects };
}

function find<T = K8sObject>(objects: K8sObject[], kind: string, name: string): T {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  assert.ok(found, `no ${kind} ${name} in the rendered chart`);
  return found as T;
}

const podSpec = (deployment: K8sObject) =>
  (deployment as unknown as { spec: { template: { spec: PodSpec } } }).spec.template.spec;

/** A container's environment as the kubelet would give it (this test's stand-ins for the references). */
function containerEnv(container: { env?: EnvVar[] }): Record<string, string> {
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

const webhookConfigs = (objects: K8sObject[]) => ({
  mutating: find<WebhookConfiguration>(objects, 'MutatingWebhookConfiguration', FULLNAME),
  validating: find<WebhookConfiguration>(objects, 'ValidatingWebhookConfiguration', FULLNAME),
});

describe('chart without a cluster', () => {
  for (const [variant, args] of Object.entries(VARIANTS)) {
    test(`helm lint --strict is clean: ${variant}`, async () => {
      const { code, stdout, stderr } = await helm(['lint', '--strict', CHART, '--namespace', NS, ...args]);
      assert.equal(code, 0, stdout + stderr);
      assert.match(stdout, /0 chart\(s\) failed/);
      assert.doesNotMatch(stdout, /\[(WARNING|ERROR)\]/);
    });
  }

  test('values.schema.json rejects a wrong type, a bad enum and a misspelt key, naming it', async () => {
    const cases: [string, RegExp][] = [
      ['operator.replicas=two', /operator\/replicas/],
      ['webhook.failurePolicy=ignore', /webhook\/failurePolicy/],
      ['forwarder.persistance.enabled=true', /persistance/],
      ['sidecar.inPort=70000', /sidecar\/inPort/],
      ['store.s3.bucket=Not_A_Bucket', /store\/s3\/bucket/],
    ];
    for (const [set, key] of cases) {
      const { code, stderr } = await helm(['template', RELEASE, CHART, '--set', set]);
      assert.notEqual(code, 0, `--set ${set} was accepted`);
      assert.match(stderr, key, `--set ${set}: the error does not name the key:\n${stderr}`);
    }
  });

  test('the generated serving certificate is signed by the caBundle and names the webhook Service', async () => {
    const { objects } = await render();
    const secret = find<K8sObject & { data: Record<string, string> }>(
      objects,
      'Secret',
      `${FULLNAME}-webhook-tls`,
    );
    const pem = (key: string) => Buffer.from(secret.data[key], 'base64').toString('utf8');
    const ca = new X509Certificate(pem('ca.crt'));
    const leaf = new X509Certificate(pem('tls.crt'));
    assert.ok(leaf.verify(ca.publicKey), 'tls.crt is not signed by ca.crt');
    assert.ok(leaf.checkPrivateKey(createPrivateKey(pem('tls.key'))), 'tls.key does not match tls.crt');
    // The API server dials <service>.<namespace>.svc and checks the name against the SANs.
    assert.equal(leaf.checkHost(`${FULLNAME}-operator.${NS}.svc`), `${FULLNAME}-operator.${NS}.svc`);
    const { mutating, validating } = webhookConfigs(objects);
    for (const hook of [...mutating.webhooks, ...validating.webhooks]) {
      assert.equal(hook.clientConfig.caBundle, secret.data['ca.crt'], `${hook.name}: caBundle is not the CA`);
      assert.equal(
        hook.clientConfig.service.name,
        find(objects, 'Service', `${FULLNAME}-operator`).metadata.name,
      );
    }
  });

  test('the pod webhook fails open and skips the system and release namespaces; replay webhooks fail closed', async () => {
    const { objects } = await render(['--set', 'webhook.excludeNamespaces={legacy}']);
    const { mutating, validating } = webhookConfigs(objects);
    const pods = mutating.webhooks.find((w) => w.rules.some((r) => r.resources.includes('pods')));
    assert.ok(pods, 'no pod webhook');
    assert.equal(pods.failurePolicy, 'Ignore');
    assert.equal(pods.clientConfig.service.path, '/mutate-workloads');
    assert.ok(pods.timeoutSeconds <= 10, 'a slow webhook delays every pod creation');
    const excluded = pods.namespaceSelector?.matchExpressions.find(
      (e) => e.key === 'kubernetes.io/metadata.name',
    );
    assert.equal(excluded?.operator, 'NotIn');
    assert.deepEqual(
      new Set(excluded?.values),
      new Set(['kube-system', 'kube-public', 'kube-node-lease', NS, 'legacy']),
    );
    const replayHooks = [...mutating.webhooks, ...validating.webhooks].filter((w) => w !== pods);
    assert.deepEqual(replayHooks.map((w) => w.clientConfig.service.path).sort(), [
      '/mutate-trafficreplay',
      '/validate-trafficreplay',
    ]);
    for (const hook of [pods, ...replayHooks]) {
      assert.equal(hook.sideEffects, 'None');
      assert.deepEqual(hook.admissionReviewVersions, ['v1']);
    }
    for (const hook of replayHooks) assert.equal(hook.failurePolicy, 'Fail');
  });

  test('cert-manager: a Certificate for the Service, the CA injected by annotation, no chart-made key', async () => {
    const { objects } = await render(VARIANTS['cert-manager']);
    assert.ok(!objects.some((o) => o.kind === 'Secret' && o.metadata.name === `${FULLNAME}-webhook-tls`));
    const cert = find<
      K8sObject & { spec: { secretName: string; dnsNames: string[]; issuerRef: { name: string } } }
    >(objects, 'Certificate', `${FULLNAME}-webhook`);
    assert.equal(cert.spec.secretName, `${FULLNAME}-webhook-tls`);
    assert.ok(cert.spec.dnsNames.includes(`${FULLNAME}-operator.${NS}.svc`));
    find(objects, 'Issuer', cert.spec.issuerRef.name);
    for (const config of Object.values(webhookConfigs(objects))) {
      assert.equal(
        config.metadata.annotations?.['cert-manager.io/inject-ca-from'],
        `${NS}/${cert.metadata.name}`,
      );
      for (const hook of config.webhooks) assert.equal(hook.clientConfig.caBundle, undefined);
    }
    // The operator mounts the Secret cert-manager writes.
    const operator = find(objects, 'Deployment', `${FULLNAME}-operator`);
    assert.ok(podSpec(operator).volumes.some((v) => JSON.stringify(v).includes(cert.spec.secretName)));
  });

  test('the operator accepts its rendered flags and environment (src/kube/webhooks/config.ts)', async () => {
    for (const variant of ['defaults', 'inspector off']) {
      const { objects } = await render(VARIANTS[variant]);
      const spec = podSpec(find(objects, 'Deployment', `${FULLNAME}-operator`));
      const operator = spec.containers[0];
      assert.deepEqual(operator.command, ['node', 'dist/workers/webhook.js']);
      const cfg = parseWebhookConfig(operator.args ?? [], containerEnv(operator));
      const tlsMount = operator.volumeMounts?.find((m) => m.name === 'webhook-tls')?.mountPath;
      assert.equal(cfg.tlsDir, tlsMount);
      assert.equal(cfg.podNamespace, NS);
      assert.equal(cfg.controller.enabled, true);
      assert.equal(cfg.inject.image, 'reprise:0.1.0');
      assert.equal(cfg.inject.forwarderUrl, `http://${FULLNAME}-forwarder.${NS}.svc:8888`);
      assert.deepEqual(cfg.inject.resources, {
        cpuRequest: '10m',
        memoryRequest: '32Mi',
        memoryLimit: '256Mi',
      });
      // The Service sends 443 to the port the server listens on.
      const service = find<
        K8sObject & { spec: { ports: { name: string; port: number; targetPort: string }[] } }
      >(objects, 'Service', `${FULLNAME}-operator`);
      const ports = (operator as unknown as { ports: { name: string; containerPort: number }[] }).ports;
      const target = service.spec.ports.find((p) => p.port === 443)?.targetPort;
      assert.equal(ports.find((p) => p.name === target)?.containerPort, cfg.port);
      const inspectorPort = service.spec.ports.find((p) => p.name === 'inspector');
      if (variant === 'defaults') {
        assert.ok(cfg.inspector.enabled && cfg.inspector.token, 'inspector on, with its token');
        assert.equal(cfg.inspector.port, inspectorPort?.port);
        find(objects, 'Secret', `${FULLNAME}-inspector`);
      } else {
        // Off removes its port and its Secret; nothing else changes.
        assert.equal(cfg.inspector.enabled, false);
        assert.equal(inspectorPort, undefined);
        assert.ok(!objects.some((o) => o.metadata.name === `${FULLNAME}-inspector`));
      }
    }
  });

  test('the forwarder starts with its rendered command line and answers /healthz', async () => {
    const { objects } = await render();
    const forwarder = podSpec(find(objects, 'Deployment', `${FULLNAME}-forwarder`)).containers.find(
      (c) => c.name === 'forwarder',
    );
    assert.ok(forwarder);
    assert.deepEqual(forwarder.command, ['node', 'dist/workers/forwarder.js']);
    // The chart spells out the forwarder's V8 flags; they must stay those every other launcher uses.
    assert.equal(containerEnv(forwarder).NODE_OPTIONS, workerNodeFlags('forwarder').join(' '));
    // The rendered flags as they are, except where this machine differs from the pod.
    const home = mkdtempSync(path.join(tmpdir(), 'reprise-store-'));
    const args = (forwarder.args ?? []).map((a) =>
      a.startsWith('--port=') ? '--port=0' : a.startsWith('--home=') ? `--home=${home}` : a,
    );
    const child = spawn(process.execPath, [path.join(projectRoot, 'dist/workers/forwarder.js'), ...args], {
      env: { ...process.env, ...containerEnv(forwarder), REPRISE_HOME: home },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
      const { port } = JSON.parse(line) as { port: number };
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      assert.equal(res.status, 200);
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
      rmSync(home, { recursive: true, force: true });
    }
  });

  test('store.s3 reaches the forwarder, orchestrator and operator; the forwarder seals into a real bucket with it', async () => {
    const s3 = await TestS3Server.start('reprise-snapshots');
    const home = mkdtempSync(path.join(tmpdir(), 'reprise-store-'));
    let child: ChildProcess | undefined;
    try {
      const { objects } = await render([
        ...VARIANTS['s3 store'],
        '--set',
        `store.s3.endpoint=${s3.endpoint}`,
      ]);
      const forwarderPod = podSpec(find(objects, 'Deployment', `${FULLNAME}-forwarder`));
      const operatorPod = podSpec(find(objects, 'Deployment', `${FULLNAME}-operator`));
      const containers = [...forwarderPod.containers, ...operatorPod.containers];
      assert.deepEqual(containers.map((c) => c.name).sort(), ['forwarder', 'operator', 'orchestrator']);
      for (const c of containers) {
        const env = containerEnv(c);
        assert.equal(env.REPRISE_STORE, 's3://reprise-snapshots/team-a', c.name);
        assert.equal(env.REPRISE_S3_ENDPOINT, s3.endpoint, c.name);
        assert.equal(env.AWS_ACCESS_KEY_ID, 'secret:s3-keys/AWS_ACCESS_KEY_ID', c.name);
        assert.equal(env.AWS_SECRET_ACCESS_KEY, 'secret:s3-keys/AWS_SECRET_ACCESS_KEY', c.name);
      }
      // The forwarder as rendered, with the Secret's keys as the kubelet would resolve them.
      const forwarder = forwarderPod.containers.find((c) => c.name === 'forwarder')!;
      const keys = s3.env();
      const args = (forwarder.args ?? []).map((a) =>
        a.startsWith('--port=') ? '--port=0' : a.startsWith('--home=') ? `--home=${home}` : a,
      );
      child = spawn(process.execPath, [path.join(projectRoot, 'dist/workers/forwarder.js'), ...args], {
        env: {
          ...process.env,
          ...containerEnv(forwarder),
          REPRISE_HOME: home,
          AWS_ACCESS_KEY_ID: keys.AWS_ACCESS_KEY_ID,
          AWS_SECRET_ACCESS_KEY: keys.AWS_SECRET_ACCESS_KEY,
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
      const url = `http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}`;
      const post = (p: string, body?: unknown) =>
        fetch(url + p, {
          method: 'POST',
          body: body === undefined ? undefined : JSON.stringify(body),
          headers: { 'content-type': 'application/json' },
        });
      assert.equal(
        (await post('/v1/recordings', { snapshotId: 'snap-chart', service: 'orders' })).status,
        201,
      );
      assert.equal((await post('/v1/recordings/snap-chart/seal')).status, 200);
      const stored = await openSnapshotStore(home, {
        ...containerEnv(forwarder),
        ...keys,
        REPRISE_STORE: 's3://reprise-snapshots/team-a',
      }).list();
      assert.deepEqual(
        stored.map((m) => m.id),
        ['snap-chart'],
      );
    } finally {
      if (child && child.exitCode === null) {
        child.kill('SIGTERM');
        await once(child, 'exit');
      }
      await s3.close();
      rmSync(home, { recursive: true, force: true });
    }
  });

  test('the forwarder pod shares one store volume with the orchestrator, which alone gets API credentials', async () => {
    const emptyDir = podSpec(find((await render()).objects, 'Deployment', `${FULLNAME}-forwarder`));
    const byName = Object.fromEntries(emptyDir.containers.map((c) => [c.name, c]));
    assert.deepEqual(Object.keys(byName).sort(), ['forwarder', 'orchestrator']);
    const storeMount = (name: string) =>
      byName[name].volumeMounts?.find((m) => m.name === 'store')?.mountPath;
    assert.equal(storeMount('forwarder'), '/var/lib/reprise');
    assert.equal(storeMount('orchestrator'), '/var/lib/reprise');
    assert.ok(emptyDir.volumes.find((v) => v.name === 'store')?.emptyDir);
    const env = (name: string) => Object.fromEntries((byName[name].env ?? []).map((e) => [e.name, e.value]));
    assert.equal(env('orchestrator').REPRISE_RUNTIME, 'kubernetes');
    assert.equal(env('orchestrator').REPRISE_HOME, '/var/lib/reprise');
    assert.ok(byName.forwarder.args?.includes('--host=0.0.0.0'), 'the forwarder must listen beyond loopback');
    assert.equal(emptyDir.automountServiceAccountToken, false);
    const apiMount = (name: string) =>
      byName[name].volumeMounts?.some((m) => m.mountPath === '/var/run/secrets/kubernetes.io/serviceaccount');
    assert.ok(apiMount('orchestrator') && !apiMount('forwarder'));

    const persistent = await render(VARIANTS['persistence, no orchestrator']);
    const claim = find(persistent.objects, 'PersistentVolumeClaim', `${FULLNAME}-store`);
    assert.equal(
      claim.metadata.annotations?.['helm.sh/resource-policy'],
      'keep',
      'recordings must survive uninstall',
    );
    const spec = podSpec(find(persistent.objects, 'Deployment', `${FULLNAME}-forwarder`));
    assert.equal(
      spec.volumes.find((v) => v.name === 'store')?.persistentVolumeClaim?.claimName,
      claim.metadata.name,
    );
    assert.deepEqual(
      spec.containers.map((c) => c.name),
      ['forwarder'],
    );
    assert.ok(
      !persistent.objects.some((o) => o.kind === 'ClusterRole' && o.metadata.name.endsWith('-orchestrator')),
    );
  });
});

describe('chart in the dev cluster', () => {
  let cluster: DevCluster;
  const kubectl = async (args: string[], input?: string) => {
    const result = await cluster.kubectl(args, { input });
    assert.equal(result.code, 0, `kubectl ${args.join(' ')}:\n${result.stderr}`);
    return result.stdout;
  };
  const getJson = async <T>(args: string[]) => JSON.parse(await kubectl([...args, '-o', 'json'])) as T;
  const ours = `app.kubernetes.io/instance=${RELEASE}`;

  before(async () => {
    cluster = await startDevCluster();
    await kubectl(['create', 'namespace', NS]);
  });
  after(async () => {
    await cluster?.stop();
  });

  test('the API server accepts every rendered object (server-side dry run)', async () => {
    for (const [variant, args] of Object.entries(VARIANTS)) {
      const { objects } = await render(args);
      // cert-manager's kinds are unknown to this API server: they were checked above without it.
      const known = objects.filter((o) => !o.apiVersion.startsWith(CERT_MANAGER_GROUP));
      assert.ok(known.length > 10, `${variant}: only ${known.length} objects`);
      const input = known.map((o) => JSON.stringify(o)).join('\n');
      const out = await kubectl(['apply', '--dry-run=server', '-n', NS, '-f', '-'], input);
      assert.equal(
        out.trim().split('\n').length,
        known.length,
        `${variant}: not every object was applied:\n${out}`,
      );
    }
  });

  test('install, upgrade, deployments while the webhook is unreachable, uninstall leaves nothing', async () => {
    const install = await cluster.helm(['install', RELEASE, CHART, '--namespace', NS]);
    assert.equal(install.code, 0, install.stderr);
    // Helm installs crds/ before the templates.
    await kubectl(['get', 'crd', 'trafficreplays.replay.reprise.dev']);

    const secretData = async (name: string) =>
      (await getJson<{ data: Record<string, string> }>(['get', 'secret', '-n', NS, name])).data;
    const caBundle = async () =>
      (await getJson<WebhookConfiguration>(['get', 'mutatingwebhookconfiguration', FULLNAME])).webhooks[0]
        .clientConfig.caBundle;
    await getJson(['get', 'validatingwebhookconfiguration', FULLNAME]);
    const ca = await caBundle();
    assert.equal(ca, (await secretData(`${FULLNAME}-webhook-tls`))['ca.crt']);
    const { token } = await secretData(`${FULLNAME}-inspector`);

    // An upgrade reads the Secrets back (lookup): the CA the API server trusts and the token
    // clients hold must not change under them.
    const upgrade = await cluster.helm([
      'upgrade',
      RELEASE,
      CHART,
      '--namespace',
      NS,
      '--set',
      'logLevel=debug',
    ]);
    assert.equal(upgrade.code, 0, upgrade.stderr);
    assert.equal(await caBundle(), ca);
    assert.equal((await secretData(`${FULLNAME}-inspector`)).token, token);

    // No operator pod really runs, so the pod webhook cannot be reached: with failurePolicy
    // Ignore, a Deployment elsewhere still gets its pods and rolls out (KWOK makes them Ready).
    await kubectl(['create', 'namespace', 'shop']);
    await kubectl(['apply', '-n', 'shop', '-f', '-'], JSON.stringify(testDeployment('checkout')));
    await kubectl(['rollout', 'status', '-n', 'shop', 'deployment/checkout', '--timeout=90s']);
    // ...and it went through our webhook, which the API server could not reach.
    assert.match(apiServerLog(cluster.dir), /failing open workloads\.capture\.reprise\.dev/);

    // The same unreachable operator with failurePolicy Fail: a TrafficReplay is refused, not
    // admitted unchecked.
    const replay = await cluster.kubectl(['apply', '-n', 'shop', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'replay.reprise.dev/v1alpha1',
        kind: 'TrafficReplay',
        metadata: { name: 'nightly' },
        spec: { snapshotId: 'snap-1', workloads: [{ ref: { kind: 'Deployment', name: 'checkout' } }] },
      }),
    });
    assert.notEqual(replay.code, 0, 'a TrafficReplay was admitted without its webhooks');
    assert.match(replay.stderr, /trafficreplays\.replay\.reprise\.dev/);

    const uninstall = await cluster.helm([
      'uninstall',
      RELEASE,
      '--namespace',
      NS,
      '--wait',
      '--timeout',
      '60s',
    ]);
    assert.equal(uninstall.code, 0, uninstall.stderr);
    // The classic failure: a webhook configuration outliving its operator blocks the cluster.
    const left = await kubectl([
      'get',
      'mutatingwebhookconfigurations,validatingwebhookconfigurations,clusterroles,clusterrolebindings',
      '-l',
      ours,
      '-o',
      'name',
    ]);
    assert.equal(left.trim(), '', `left behind after uninstall:\n${left}`);
    for (const [kind, name] of [
      ['mutatingwebhookconfiguration', FULLNAME],
      ['validatingwebhookconfiguration', FULLNAME],
      ['clusterrole', `${FULLNAME}-operator`],
    ]) {
      const got = await cluster.kubectl(['get', kind, name]);
      assert.match(got.stderr, /NotFound/, `${kind} ${name} still exists`);
    }
    const nsLeft = await kubectl([
      'get',
      // What the chart creates there; pods and ReplicaSets follow their Deployments (garbage collector).
      'deployments,services,secrets,configmaps,serviceaccounts,roles,rolebindings,persistentvolumeclaims',
      '-n',
      NS,
      '-l',
      ours,
      '-o',
      'name',
    ]);
    assert.equal(nsLeft.trim(), '', `left in ${NS}:\n${nsLeft}`);
  });
});

/** What the dev cluster's kube-apiserver logged so far. */
function apiServerLog(dir: string): string {
  const logs = path.join(dir, 'logs');
  const file = readdirSync(logs).find((name) => name.startsWith('kube-apiserver'));
  assert.ok(file, `no kube-apiserver log in ${logs}`);
  return readFileSync(path.join(logs, file), 'utf8');
}

function testDeployment(name: string) {
  const labels = { app: name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels, annotations: { 'capture.reprise.dev/inject': 'true' } },
        spec: {
          terminationGracePeriodSeconds: 0,
          containers: [{ name, image: 'registry.invalid/checkout:1' }],
        },
      },
    },
  };
}
