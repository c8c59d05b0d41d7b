/**
 * The Helm chart charts/reprise installed into the dev cluster (a real kube-apiserver; KWOK
 * plays the kubelet, so no Reprise container really runs and the chart's service-based webhooks
 * are unreachable). That is the situation the chart must survive: a webhook nobody answers must
 * not block a deployment, and `helm uninstall` must leave no webhook behind.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startDevCluster, type DevCluster } from '../../tools/dev-cluster/index.js';
import {
  CERT_MANAGER_GROUP,
  CHART,
  FULLNAME,
  NS,
  RELEASE,
  VARIANTS,
  render,
  type WebhookConfiguration,
} from './chart-render.js';

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
