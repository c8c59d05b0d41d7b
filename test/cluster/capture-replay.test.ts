/**
 * REAL NODE + IMAGES, end to end (issue 12 items 4 and 5), on one cluster: the chart's pods
 * (operator, forwarder + orchestrator) against a Temporal dev server on this machine, and an app
 * that is not Reprise (test/cluster/shop: orders calling inventory, each in its pod).
 * captureWorkflow with a workload target makes the webhook inject the sidecar into the orders
 * pod; a client pod's requests through the orders Service are recorded inbound and orders' calls
 * to inventory outbound; the snapshot is sealed in the forwarder's store; the pod template is
 * restored byte for byte. Then TrafficReplays of that snapshot run through the controller.
 */
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { CaptureInput, CaptureProgress, CaptureResult } from '../../src/config/capture.js';
import type { RRPair } from '../../src/model/traffic.js';
import { startDevCluster, type DevCluster } from '../../tools/dev-cluster/index.js';
import { ensureImage } from '../../tools/dev-cluster/image.js';
import { reportFile, snapshotPairs } from '../../demo/k8s/snapshot.js';
import { installChart, RELEASE_NS, startTemporalForPods } from './chart-fixtures.js';
import {
  APP_PORT,
  deployShop,
  ensureTestImages,
  INIT_IMAGE,
  INVENTORY_URL,
  kubectlOk,
  livePods,
  runClient,
  SHOP_IMAGE_CHANGED,
  SHOP_NS,
  templateJson,
} from './shop-fixtures.js';

const FORWARDER_SVC = 'rp-reprise-forwarder';
const REQUESTS = 6;

describe('capture and replay in the cluster, end to end', () => {
  let cluster: DevCluster;
  let temporal: TestWorkflowEnvironment & { port: number };
  let forwarderUrl: string;
  let templateBefore: string;
  let snapshotId: string;

  before(async () => {
    const started = Date.now();
    const image = ensureImage();
    const archives = [image.archive, ...ensureTestImages()];
    const built = Date.now();
    // Both kept even when the other fails, so after() stops whichever started.
    const [c, t] = await Promise.allSettled([
      startDevCluster({ node: 'real', images: archives }),
      startTemporalForPods(),
    ]);
    if (c.status === 'fulfilled') cluster = c.value;
    if (t.status === 'fulfilled') temporal = t.value;
    for (const r of [c, t]) if (r.status === 'rejected') throw r.reason;
    const up = Date.now();
    const relay = await cluster.relay(`127.0.0.1:${temporal.port}`);
    await installChart(cluster, image, relay, [`sidecar.initImage=${INIT_IMAGE}`]);
    const installed = Date.now();
    await deployShop(cluster);
    const ip = await kubectlOk(cluster, [
      'get',
      'svc',
      '-n',
      RELEASE_NS,
      FORWARDER_SVC,
      '-o',
      'jsonpath={.spec.clusterIP}',
    ]);
    forwarderUrl = `http://${ip}:8888`;
    templateBefore = await templateJson(cluster, 'orders');
    console.log(
      `images ${built - started} ms, cluster ${up - built} ms, chart ${installed - up} ms, shop ${Date.now() - installed} ms`,
    );
  });
  after(async () => {
    await cluster?.stop();
    await temporal?.teardown();
  });

  it('captures the orders workload: sidecar injected into its pod, every request recorded, template restored', async () => {
    const started = Date.now();
    const input: CaptureInput = {
      service: 'orders',
      target: { appPort: APP_PORT, workload: { name: 'orders', namespace: SHOP_NS } },
    };
    const handle = await temporal.client.workflow.start('captureWorkflow', {
      taskQueue: 'reprise',
      workflowId: 'e2e-capture-orders',
      args: [input],
    });
    for (const deadline = Date.now() + 180_000; ; await delay(500)) {
      const p = await handle.query<CaptureProgress>('progress');
      if (p.phase === 'capturing') break;
      assert.ok(Date.now() < deadline && p.phase === 'starting', `capture phase ${p.phase} within 180 s`);
    }
    const pods = await livePods(cluster, 'orders');
    assert.equal(pods.length, 1, JSON.stringify(pods.map((p) => p.metadata.name)));
    assert.deepEqual(
      pods[0].spec.containers.map((c) => c.name),
      ['orders', 'reprise-sidecar'],
    );
    assert.deepEqual(
      pods[0].spec.initContainers?.map((c) => c.name),
      ['reprise-init'],
    );

    const client = await runClient(cluster, 'client-capture', REQUESTS);
    assert.deepEqual(client, { requests: REQUESTS, failures: 0, statuses: { '200': REQUESTS } });
    // The sidecar ships in batches: stop once the forwarder holds every pair.
    for (const deadline = Date.now() + 60_000; ; await delay(500)) {
      const p = await handle.query<CaptureProgress>('progress');
      if (p.pairs >= 2 * REQUESTS) break;
      assert.ok(Date.now() < deadline, `the forwarder got ${p.pairs} of ${2 * REQUESTS} pairs within 60 s`);
    }
    await handle.signal('stop');
    const result = await handle.result();
    const r = result as CaptureResult;
    snapshotId = r.snapshotId;
    assert.deepEqual(
      { pairs: r.pairs, inbound: r.inbound, outbound: r.outbound, dropped: r.dropped },
      { pairs: 2 * REQUESTS, inbound: REQUESTS, outbound: REQUESTS, dropped: 0 },
    );

    const pairs = await snapshotPairs(forwarderUrl, snapshotId);
    const seen = (dir: RRPair['direction']) =>
      pairs
        .filter((p) => p.direction === dir)
        .map((p) => `${p.request.method} ${p.request.host}${p.request.path} ${p.response?.status}`)
        .sort();
    const ids = Array.from({ length: REQUESTS }, (_, i) => i + 1);
    assert.deepEqual(
      seen('inbound'),
      ids.map((i) => `GET orders.${SHOP_NS}.svc.cluster.local/orders/${i} 200`).sort(),
    );
    assert.deepEqual(
      seen('outbound'),
      ids.map((i) => `GET ${new URL(INVENTORY_URL).host}/stock/sku-${i} 200`).sort(),
    );

    assert.equal(await templateJson(cluster, 'orders'), templateBefore);
    const after = await livePods(cluster, 'orders');
    assert.deepEqual(
      after.flatMap((p) => p.spec.containers.map((c) => c.name)),
      ['orders'],
    );
    console.log(`capture test ${Date.now() - started} ms`);
  });

  interface ReplayView {
    status?: {
      verdict?: string;
      reportPath?: string;
      conditions?: { type: string; status: string; reason: string }[];
    };
  }

  /** Applies a TrafficReplay and waits for its verdict, noting which of its pods ran meanwhile. */
  async function replay(name: string): Promise<{ cr: ReplayView; ran: Set<string> }> {
    const cr = {
      apiVersion: 'replay.reprise.dev/v1alpha1',
      kind: 'TrafficReplay',
      metadata: { name, namespace: SHOP_NS },
      spec: { snapshotId, timeout: '10m', workloads: [{ ref: { name: 'orders' } }] },
    };
    await kubectlOk(cluster, ['apply', '-f', '-'], JSON.stringify(cr));
    const ran = new Set<string>();
    for (const deadline = Date.now() + 600_000; ; await delay(1000)) {
      const pods = JSON.parse(
        await kubectlOk(cluster, [
          'get',
          'pods',
          '-n',
          RELEASE_NS,
          '-l',
          'app.kubernetes.io/managed-by=reprise',
          '-o',
          'json',
        ]),
      ) as { items: { metadata: { labels: Record<string, string> }; status: { phase: string } }[] };
      for (const p of pods.items)
        if (['Running', 'Succeeded'].includes(p.status.phase))
          ran.add(p.metadata.labels['app.kubernetes.io/component']);
      const view = JSON.parse(
        await kubectlOk(cluster, ['get', 'trafficreplay', name, '-n', SHOP_NS, '-o', 'json']),
      ) as ReplayView;
      const ready = view.status?.conditions?.find((c) => c.type === 'Ready');
      if (view.status?.verdict && ready && ready.reason !== 'InProgress') return { cr: view, ran };
      assert.ok(
        Date.now() < deadline,
        `TrafficReplay ${name} finished within 600 s: ${JSON.stringify(view.status)}`,
      );
    }
  }

  const reportJson = (reportPath: string) => reportFile(cluster, reportPath, 'report.json');

  async function assertNothingLabelled() {
    const left = await kubectlOk(cluster, [
      'get',
      'deploy,job,pod,svc,cm,secret',
      '-A',
      '-l',
      'replay.reprise.dev/id',
      '-o',
      'name',
    ]);
    assert.equal(left.trim(), '');
    assert.equal(await templateJson(cluster, 'orders'), templateBefore);
  }

  it('a TrafficReplay of the snapshot passes: responder and generator pods ran, Ready=True/TestSucceeded, nothing left', async () => {
    assert.ok(snapshotId, 'the capture test sealed a snapshot');
    const started = Date.now();
    const { cr, ran } = await replay('orders-passes');
    assert.equal(cr.status?.verdict, 'Passed', JSON.stringify(cr.status));
    assert.deepEqual(
      cr.status?.conditions?.filter((c) => c.type === 'Ready').map((c) => [c.status, c.reason]),
      [['True', 'TestSucceeded']],
    );
    assert.deepEqual([...ran].sort(), ['generator', 'responder']);
    assert.match(cr.status?.reportPath ?? '', /report\.(html|json)$/);
    const report = await reportJson(cr.status!.reportPath!);
    assert.match(report, /"name":\s*"app orders pod orders-/);
    assert.match(report, /"name":\s*"responder pod /);
    assert.match(report, /"name":\s*"generator pod /);
    assert.match(report, /"name":\s*"events /);
    await assertNothingLabelled();
    console.log(`replay test ${Date.now() - started} ms`);
  });

  it('with a changed app image the replay misses its goals and the report names the field', async () => {
    assert.ok(snapshotId, 'the capture test sealed a snapshot');
    await kubectlOk(cluster, [
      'set',
      'image',
      'deploy/orders',
      '-n',
      SHOP_NS,
      `orders=${SHOP_IMAGE_CHANGED}`,
    ]);
    await kubectlOk(cluster, ['rollout', 'status', 'deploy/orders', '-n', SHOP_NS, '--timeout=180s']);
    templateBefore = await templateJson(cluster, 'orders');
    const { cr } = await replay('orders-changed');
    assert.equal(cr.status?.verdict, 'Missed Goals', JSON.stringify(cr.status));
    assert.equal(cr.status?.conditions?.find((c) => c.type === 'Ready')?.reason, 'TestFailed');
    const report = await reportJson(cr.status!.reportPath!);
    assert.match(report, /"path":\s*"\$\.status"/);
    assert.match(report, /backordered/);
    await assertNothingLabelled();
  });
});
