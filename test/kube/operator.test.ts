/**
 * The operator's webhooks against a real kube-apiserver: the API server itself calls
 * /mutate-workloads, /mutate-trafficreplay and /validate-trafficreplay on the webhook process,
 * and what is stored is read back. The snapshot check asks a real store (REPRISE_HOME).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { V1Deployment, V1Pod, V1PodTemplateSpec } from '@kubernetes/client-node';
import { stringify as toYaml } from 'yaml';
import { CAPTURE, SIDECAR_CONTAINER } from '../../src/kube/api/annotations.js';
import { startDevCluster, type DevCluster } from '../../tools/dev-cluster/index.js';
import type { TrafficReplay } from '../../src/kube/api/traffic-replay.js';
import { writeItemsSnapshot } from '../helpers/replay-fixtures.js';
import { waitFor } from '../workflows/loopback.js';
import {
  apply,
  getJson,
  installCrd,
  loopbackWebhookArgs,
  registerWebhooks,
  startWebhook,
  writeServingCert,
  type WebhookProcess,
  trafficReplayYaml as replay,
} from './operator-harness.js';

const deployment = (name: string, annotations: Record<string, string>): V1Deployment => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: 'default' },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name }, annotations },
      spec: {
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: 'app',
            image: 'registry.example/orders:1',
            ports: [{ containerPort: 8080 }],
            env: [{ name: 'LOG_LEVEL', value: 'info' }],
          },
        ],
      },
    },
  },
});

const TOKEN = 'inspector-test-token';

const sidecars = (t: V1PodTemplateSpec | V1Pod) =>
  (t.spec?.containers ?? []).filter((c) => c.name === SIDECAR_CONTAINER);

describe('operator webhooks on a real API server', { timeout: 600_000 }, () => {
  let cluster: DevCluster;
  let webhook: WebhookProcess;
  let dir: string;
  let snapshotId: string;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'reprise-operator-'));
    const home = path.join(dir, 'home');
    [cluster, snapshotId] = await Promise.all([startDevCluster(), writeItemsSnapshot(home, 3)]);
    const { tlsDir, caPem } = await writeServingCert(dir);
    webhook = await startWebhook(
      [...loopbackWebhookArgs(tlsDir), '--no-controller', '--inspector-port', '0', '--store-dir', home],
      {
        KUBECONFIG: cluster.kubeconfigPath,
        REPRISE_IMAGE: 'reprise:test',
        REPRISE_FORWARDER_URL: 'http://reprise-forwarder.reprise:8888',
        INSPECTOR_TOKEN: TOKEN,
      },
    );
    await installCrd(cluster);
    await registerWebhooks(cluster, webhook.port, caPem);
  });

  after(async () => {
    await webhook?.stop();
    await cluster?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('the API server has the webhook inject the sidecar; "false" removes exactly it; applying twice injects once', async () => {
    await apply(cluster, deployment('orders', { [CAPTURE.inject]: 'false' }));
    const original = (await getJson<V1Deployment>(cluster, ['deployment', 'orders'])).spec!.template;
    assert.equal(sidecars(original).length, 0);

    await apply(cluster, deployment('orders', { [CAPTURE.inject]: 'true' }));
    const injected = await getJson<V1Deployment>(cluster, ['deployment', 'orders']);
    const template = injected.spec!.template;
    assert.equal(sidecars(template).length, 1, `no sidecar; webhook log:\n${webhook.logs()}`);
    const sidecar = sidecars(template)[0];
    assert.equal(sidecar.image, 'reprise:test');
    assert.ok(sidecar.args?.includes('--forwarder'));
    assert.ok(template.metadata?.annotations?.[CAPTURE.injected], 'the injection is recorded');
    assert.equal(
      template.spec!.containers[0].env?.find((e) => e.name === 'HTTP_PROXY')?.value,
      'http://127.0.0.1:4140',
    );

    // The same manifest again: no second sidecar, no new rollout.
    await apply(cluster, deployment('orders', { [CAPTURE.inject]: 'true' }));
    const again = await getJson<V1Deployment>(cluster, ['deployment', 'orders']);
    assert.equal(sidecars(again.spec!.template).length, 1);
    assert.equal(again.metadata!.generation, injected.metadata!.generation);

    // The pod made from the injected template goes through the webhook too, and keeps one sidecar.
    const pod = await waitFor(
      'a pod of the injected template',
      async () =>
        (await getJson<{ items: V1Pod[] }>(cluster, ['pods', '-l', 'app=orders'])).items.find(
          (p) => p.metadata?.annotations?.[CAPTURE.injected],
        ),
      120_000,
    );
    assert.equal(sidecars(pod).length, 1);

    await apply(cluster, deployment('orders', { [CAPTURE.inject]: 'false' }));
    const restored = (await getJson<V1Deployment>(cluster, ['deployment', 'orders'])).spec!.template;
    assert.deepEqual(restored, original);
  });

  it('a bad capture annotation never blocks the workload: created unchanged, with a warning', async () => {
    const res = await cluster.kubectl(['apply', '-f', '-'], {
      input: toYaml(deployment('badport', { [CAPTURE.inject]: 'true', [CAPTURE.inPort]: 'lots' })),
    });
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, /capture\.reprise\.dev\/in-port: expected an integer/);
    const stored = await getJson<V1Deployment>(cluster, ['deployment', 'badport']);
    assert.equal(sidecars(stored.spec!.template).length, 0);
  });

  it('refuses bad TrafficReplays at kubectl apply, naming the field', async () => {
    await apply(cluster, deployment('checkout', {}));
    const cases: [string, Record<string, unknown>, RegExp][] = [
      [
        'nosnap',
        { snapshotId: 'snap-missing', workloads: [{ ref: { name: 'checkout' } }] },
        /spec\.snapshotId: snapshot "snap-missing" not found/,
      ],
      [
        'baddur',
        { snapshotId, timeout: 'soon', workloads: [{ ref: { name: 'checkout' } }] },
        /spec\.timeout: expected a duration/,
      ],
      [
        'noworkload',
        { snapshotId, workloads: [{ ref: { name: 'ghost' } }] },
        /spec\.workloads\[0\]\.ref\.name: Deployment default\/ghost not found/,
      ],
      [
        'mocks',
        { snapshotId, mode: 'generator-only', workloads: [{ ref: { name: 'checkout' }, mocks: ['*'] }] },
        /spec\.workloads\[0\]\.mocks: /,
      ],
    ];
    for (const [name, spec, expected] of cases) {
      const res = await cluster.kubectl(['apply', '-f', '-'], { input: replay(name, spec) });
      assert.notEqual(res.code, 0, `${name} was admitted`);
      assert.match(res.stderr, /denied the request/);
      assert.match(res.stderr, expected);
      const gone = await cluster.kubectl(['get', 'trafficreplay', name]);
      assert.notEqual(gone.code, 0, `${name} exists`);
    }
    // The CRD's own schema still refuses what it can say, before any webhook.
    const schema = await cluster.kubectl(['apply', '-f', '-'], {
      input: replay('badmode', { snapshotId, mode: 'sometimes' }),
    });
    assert.notEqual(schema.code, 0);
    assert.match(schema.stderr, /spec\.mode/);
  });

  it('admits a good TrafficReplay with the defaults filled in', async () => {
    await apply(cluster, replay('nightly', { snapshotId, workloads: [{ ref: { name: 'checkout' } }] }));
    const stored = await getJson<TrafficReplay>(cluster, ['replay', 'nightly']);
    assert.equal(stored.spec.mode, 'full-replay');
    assert.equal(stored.spec.cleanup, 'inventory');
    assert.equal(stored.spec.timeout, '30m');
    assert.deepEqual(stored.spec.workloads?.[0].ref, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: 'checkout',
      namespace: 'default',
    });
    // The printer columns the CRD declares.
    const table = await cluster.kubectl(['get', 'replay', 'nightly']);
    assert.match(table.stdout.split('\n')[0], /NAME\s+PHASE\s+MODE\s+VERDICT\s+AGE/);
    assert.match(table.stdout, /nightly\s+full-replay/);
  });

  it('the inspector answers with the bearer token only: workloads, snapshots, replays', async () => {
    await apply(cluster, deployment('inspected', { [CAPTURE.inject]: 'true' }));
    const base = `http://127.0.0.1:${webhook.inspectorPort}`;
    const call = (p: string, token?: string) =>
      fetch(base + p, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    for (const p of ['/api/workloads', '/api/snapshots', '/api/replays']) {
      assert.equal((await call(p)).status, 401, `${p} without a token`);
      assert.equal((await call(p, 'wrong')).status, 401, `${p} with a wrong token`);
    }
    const workloads = (await (await call('/api/workloads', TOKEN)).json()) as {
      kind: string;
      name: string;
      captureRequested: boolean;
      injected: boolean;
    }[];
    const inspected = workloads.find((w) => w.kind === 'Deployment' && w.name === 'inspected');
    assert.deepEqual([inspected?.captureRequested, inspected?.injected], [true, true]);
    const checkout = workloads.find((w) => w.name === 'checkout');
    assert.deepEqual([checkout?.captureRequested, checkout?.injected], [false, false]);
    const snapshots = (await (await call('/api/snapshots', TOKEN)).json()) as { id: string; pairs: number }[];
    assert.deepEqual(
      snapshots.map((s) => [s.id, s.pairs]),
      [[snapshotId, 3]],
    );
    const replays = (await (await call('/api/replays', TOKEN)).json()) as {
      name: string;
      snapshotId: string;
      mode: string;
    }[];
    assert.deepEqual(
      replays.map((r) => [r.name, r.snapshotId, r.mode]),
      [['nightly', snapshotId, 'full-replay']],
    );
    assert.equal(
      (
        await fetch(base + '/api/replays', {
          method: 'DELETE',
          headers: { authorization: `Bearer ${TOKEN}` },
        })
      ).status,
      405,
    );
  });

  it('with the webhook down, an annotated Deployment is still created (failurePolicy Ignore)', async () => {
    await webhook.stop();
    const res = await cluster.kubectl(['apply', '-f', '-'], {
      input: toYaml(deployment('while-down', { [CAPTURE.inject]: 'true' })),
    });
    assert.equal(res.code, 0, res.stderr);
    const stored = await getJson<V1Deployment>(cluster, ['deployment', 'while-down']);
    assert.equal(sidecars(stored.spec!.template).length, 0);
  });
});
