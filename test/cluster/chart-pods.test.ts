/**
 * REAL NODE + IMAGE: the Helm chart's pods really run. The image built by `npm run image`
 * (localhost/reprise:<version>, imported into the node's containerd) is installed with
 * `image.pullPolicy=Never` against a Temporal dev server on this machine, which pods reach
 * through the cluster's relay. The operator's webhooks are called by the API server through
 * their Service, with the chart's TLS; the operator checks snapshots in the forwarder's store.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { DevCluster } from '../../tools/dev-cluster/index.js';
import type { RepriseImage } from '../../tools/dev-cluster/image.js';
import {
  RELEASE_NS,
  podReady,
  releasePods,
  startChartCluster,
  trafficReplayJson,
  type Pod,
} from './chart-fixtures.js';

const FULLNAME = 'rp-reprise';

const trafficReplay = (name: string, snapshotId: string) =>
  trafficReplayJson(name, RELEASE_NS, snapshotId, `${FULLNAME}-forwarder`);

describe('the chart on a real node', () => {
  let cluster: DevCluster;
  let temporal: TestWorkflowEnvironment & { port: number };
  let pods: Pod[];
  let image: RepriseImage;

  before(async () => {
    const started = await startChartCluster();
    ({ cluster, temporal, image } = started);
    pods = await releasePods(cluster);
    console.log(
      `cluster with the image in ${started.clusterMs} ms; chart pods Ready ${started.installMs} ms after install`,
    );
  });
  after(async () => {
    await cluster?.stop();
    await temporal?.teardown();
  });

  it('operator, forwarder with orchestrator, all Ready with no restart', () => {
    const byComponent = new Map(pods.map((p) => [p.metadata.labels['app.kubernetes.io/component'], p]));
    assert.deepEqual([...byComponent.keys()].sort(), ['forwarder', 'operator']);
    assert.deepEqual(
      byComponent.get('forwarder')!.spec.containers.map((c) => c.name),
      ['forwarder', 'orchestrator'],
    );
    for (const pod of pods) {
      assert.equal(pod.spec.nodeName, cluster.nodeName);
      assert.ok(podReady(pod), pod.metadata.name);
      assert.equal(pod.status.containerStatuses?.length, pod.spec.containers.length, pod.metadata.name);
      for (const c of pod.status.containerStatuses ?? []) {
        assert.equal(c.ready, true, `${pod.metadata.name}/${c.name}`);
        assert.equal(c.restartCount, 0, `${pod.metadata.name}/${c.name} restarted`);
        assert.equal(c.image, image.name);
      }
    }
  });

  it('every container runs as uid 1000 on a read-only root filesystem', async () => {
    for (const pod of pods) {
      for (const c of pod.spec.containers) {
        const exec = (...command: string[]) =>
          cluster.kubectl(['exec', '-n', RELEASE_NS, pod.metadata.name, '-c', c.name, '--', ...command]);
        const id = await exec('id', '-u');
        assert.equal(id.stdout.trim(), '1000', `${pod.metadata.name}/${c.name}: ${id.stderr}`);
        const write = await exec('touch', '/app/x');
        assert.notEqual(write.code, 0);
        assert.match(write.stderr, /Read-only file system/);
      }
    }
  });

  it('the orchestrator and the operator reach Temporal on this machine through the relay', async () => {
    const { pollers } = await temporal.client.workflowService.describeTaskQueue({
      namespace: 'default',
      taskQueue: { name: 'reprise' },
      taskQueueType: 1, // TASK_QUEUE_TYPE_WORKFLOW
    });
    assert.ok((pollers ?? []).length >= 1, 'the orchestrator in the forwarder pod polls the task queue');
  });

  it('the API server calls the operator through its Service: a replay of a missing snapshot is refused', async () => {
    const applied = await cluster.kubectl(['apply', '-f', '-'], {
      input: trafficReplay('missing', 'snap-missing'),
    });
    assert.notEqual(applied.code, 0);
    assert.match(applied.stderr, /admission webhook "[^"]+" denied the request/);
    assert.match(applied.stderr, /spec\.snapshotId: snapshot "snap-missing" not found/);
  });

  it('the operator checks the forwarder store, not a folder of its own: a sealed snapshot is accepted', async () => {
    const forwarder = await cluster.kubectl([
      'get',
      'svc',
      '-n',
      RELEASE_NS,
      `${FULLNAME}-forwarder`,
      '-o',
      'jsonpath={.spec.clusterIP}',
    ]);
    const base = `http://${forwarder.stdout}:8888`;
    const open = await fetch(`${base}/v1/recordings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ snapshotId: 'snap-empty', service: 'checkout' }),
    });
    assert.equal(open.status, 201, await open.text());
    const sealed = await fetch(`${base}/v1/recordings/snap-empty/seal`, { method: 'POST' });
    assert.equal(sealed.status, 200, await sealed.text());
    const dryRun = await cluster.kubectl(['apply', '--dry-run=server', '-f', '-'], {
      input: trafficReplay('present', 'snap-empty'),
    });
    assert.equal(dryRun.code, 0, dryRun.stderr);
    assert.match(dryRun.stdout, /trafficreplay\.replay\.reprise\.dev\/present created \(server dry run\)/);
  });

  it('the inspector answers through the operator Service with its token', async () => {
    const [svc, token] = await Promise.all([
      cluster.kubectl([
        'get',
        'svc',
        '-n',
        RELEASE_NS,
        `${FULLNAME}-operator`,
        '-o',
        'jsonpath={.spec.clusterIP}',
      ]),
      cluster.kubectl([
        'get',
        'secret',
        '-n',
        RELEASE_NS,
        `${FULLNAME}-inspector`,
        '-o',
        'jsonpath={.data.token}',
      ]),
    ]);
    const url = `http://${svc.stdout}:8080/api/workloads`;
    assert.equal((await fetch(url)).status, 401);
    const res = await fetch(url, {
      headers: { authorization: `Bearer ${Buffer.from(token.stdout, 'base64').toString()}` },
    });
    assert.equal(res.status, 200);
    const workloads = (await res.json()) as { kind: string; name: string; namespace: string }[];
    assert.ok(
      workloads.some(
        (w) => w.kind === 'Deployment' && w.name === `${FULLNAME}-forwarder` && w.namespace === RELEASE_NS,
      ),
      JSON.stringify(workloads),
    );
  });
});
