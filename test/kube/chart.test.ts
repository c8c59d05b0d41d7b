/**
 * The Helm chart charts/reprise with the real `helm`, without a cluster: lint, render, schema,
 * the webhooks' certificates and policies, and the operator and forwarder accepting what the
 * chart renders for them. The chart in the dev cluster is chart-cluster.test.ts; the S3 store
 * settings, chart-s3.test.ts.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseWebhookConfig } from '../../src/kube/webhooks/config.js';
import { workerNodeFlags } from '../../src/base/node-options.js';
import {
  CHART,
  FULLNAME,
  NS,
  RELEASE,
  VARIANTS,
  containerEnv,
  find,
  helm,
  podSpec,
  render,
  startRenderedForwarder,
  webhookConfigs,
  type K8sObject,
} from './chart-render.js';

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
      ['forwarder.ingestThreads=-1', /forwarder\/ingestThreads/],
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

  test('the pod webhook fails open and skips the system and release namespaces; replays are checked or refused', async () => {
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
    // Defaults may be skipped; the check may not.
    assert.equal(mutating.webhooks.find((w) => w !== pods)?.failurePolicy, 'Ignore');
    assert.deepEqual(
      validating.webhooks.map((w) => w.failurePolicy),
      ['Fail'],
    );
    // With the operator down, the API server itself refuses a replay, saying so.
    const policy = find<K8sObject & { spec: { paramKind: object; validations: { message: string }[] } }>(
      objects,
      'ValidatingAdmissionPolicy',
      `${FULLNAME}-operator-up`,
    );
    assert.deepEqual(policy.spec.paramKind, { apiVersion: 'apps/v1', kind: 'Deployment' });
    assert.match(policy.spec.validations[0].message, /the Reprise operator is down/);
    const binding = find<K8sObject & { spec: { paramRef: { name: string; namespace: string } } }>(
      objects,
      'ValidatingAdmissionPolicyBinding',
      `${FULLNAME}-operator-up`,
    );
    assert.equal(binding.spec.paramRef.name, `${FULLNAME}-operator`);
    assert.equal(binding.spec.paramRef.namespace, NS);
    const open = await render(['--set', 'webhook.trafficReplayFailurePolicy=Ignore']);
    assert.ok(!open.objects.some((o) => o.kind === 'ValidatingAdmissionPolicy'));
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

  test('sidecar.initImage reaches the operator as the transparent mode init image; unset, none', async () => {
    const operatorConfig = async (extra: string[]) => {
      const { objects } = await render(extra);
      const operator = podSpec(find(objects, 'Deployment', `${FULLNAME}-operator`)).containers[0];
      return parseWebhookConfig(operator.args ?? [], containerEnv(operator));
    };
    assert.equal((await operatorConfig([])).inject.initImage, undefined);
    const cfg = await operatorConfig(['--set', 'sidecar.initImage=localhost/reprise-iptables:1']);
    assert.equal(cfg.inject.initImage, 'localhost/reprise-iptables:1');
  });

  test('the forwarder starts with its rendered command line and answers /healthz', async () => {
    const forwarderOf = async (extra: string[]) =>
      podSpec(find((await render(extra)).objects, 'Deployment', `${FULLNAME}-forwarder`)).containers.find(
        (c) => c.name === 'forwarder',
      );
    // Unset, the forwarder picks its ingest threads from the CPUs it may use.
    assert.equal(
      (await forwarderOf([]))?.args?.some((a) => a.startsWith('--ingest-threads')),
      false,
    );
    const forwarder = await forwarderOf(['--set', 'forwarder.ingestThreads=2']);
    assert.ok(forwarder);
    assert.ok(forwarder.args?.includes('--ingest-threads=2'), String(forwarder.args));
    assert.deepEqual(forwarder.command, ['node', 'dist/workers/forwarder.js']);
    // The chart spells out the forwarder's V8 flags; they must stay those every other launcher uses.
    assert.equal(containerEnv(forwarder).NODE_OPTIONS, workerNodeFlags('forwarder').join(' '));
    const home = mkdtempSync(path.join(tmpdir(), 'reprise-store-'));
    const started = await startRenderedForwarder(forwarder, home);
    try {
      const res = await fetch(`${started.url}/healthz`);
      assert.equal(res.status, 200);
    } finally {
      await started.stop();
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
