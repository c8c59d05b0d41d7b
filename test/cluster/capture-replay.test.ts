/**
 * REAL NODE + IMAGES, end to end (issue 12 items 4 and 5), on one cluster: the chart's pods
 * (operator, forwarder + orchestrator) against a Temporal dev server on this machine, and an app
 * that is not Reprise (test/cluster/shop: orders calling inventory, each in its pod).
 * captureWorkflow with a workload target makes the webhook inject the sidecar into the orders
 * pod; a client pod's requests through the orders Service are recorded inbound and orders' calls
 * to inventory outbound; the snapshot is sealed in the forwarder's store; the pod template is
 * restored byte for byte. Then TrafficReplays of that snapshot run through the controller.
 * Last (issue 14), the release moves to the S3 store (versitygw on this machine, relayed to pods)
 * with 3 forwarder replicas: a capture spread over them seals one snapshot, and a replay of it
 * with 2 generator replicas (Job pods) gives one report.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { CaptureInput, CaptureProgress, CaptureResult } from '../../src/config/capture.js';
import type { RRPair, SnapshotManifest } from '../../src/model/traffic.js';
import { startDevCluster, type DevCluster } from '../../tools/dev-cluster/index.js';
import { ensureImage } from '../../tools/dev-cluster/image.js';
import { reportFile, snapshotPairs } from '../../demo/k8s/snapshot.js';
import { installChart, RELEASE_NS, startTemporalForPods } from './chart-fixtures.js';
import type { Report } from '../../src/report/schema.js';
import { TestS3Server } from '../../tools/versitygw.js';
import {
  bucketObject,
  countsPerForwarder,
  forwarderPods,
  replaceForwarder,
  observedPairIds,
  spreadOverForwarders,
  upgradeToS3,
} from './scale-out.js';
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
  let s3: TestS3Server | undefined;

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
    await s3?.close();
  });

  /** Starts captureWorkflow on the orders workload; resolves once it is capturing. */
  async function startCapture(workflowId: string) {
    const input: CaptureInput = {
      service: 'orders',
      target: { appPort: APP_PORT, workload: { name: 'orders', namespace: SHOP_NS } },
    };
    const handle = await temporal.client.workflow.start('captureWorkflow', {
      taskQueue: 'reprise',
      workflowId,
      args: [input],
    });
    for (const deadline = Date.now() + 180_000; ; await delay(500)) {
      const p = await handle.query<CaptureProgress>('progress');
      if (p.phase === 'capturing') return { handle, snapshotId: p.snapshotId! };
      assert.ok(Date.now() < deadline && p.phase === 'starting', `capture phase ${p.phase} within 180 s`);
    }
  }

  it('captures the orders workload: sidecar injected into its pod, every request recorded, template restored', async () => {
    const started = Date.now();
    const { handle } = await startCapture('e2e-capture-orders');
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
      reportId?: string;
      conditions?: { type: string; status: string; reason: string }[];
    };
  }

  const REPLAY_PODS = ['get', 'pods', '-n', RELEASE_NS, '-l', 'app.kubernetes.io/managed-by=reprise'];
  const hasRun = (phase: string) => phase === 'Running' || phase === 'Succeeded';

  /** Applies a TrafficReplay and waits for its verdict, noting which of its pods ran meanwhile. */
  async function replay(
    name: string,
    snapshot = snapshotId,
    spec: object = {},
  ): Promise<{ cr: ReplayView; ran: Set<string> }> {
    const cr = {
      apiVersion: 'replay.reprise.dev/v1alpha1',
      kind: 'TrafficReplay',
      metadata: { name, namespace: SHOP_NS },
      spec: { snapshotId: snapshot, timeout: '10m', workloads: [{ ref: { name: 'orders' } }], ...spec },
    };
    const ran = new Set<string>();
    // A pod that lives less than a poll (a generator sending 18 requests) is seen by a watch.
    const watch = spawn(
      'kubectl',
      [
        ...REPLAY_PODS,
        '--watch',
        '-o',
        'jsonpath={.metadata.labels.app\\.kubernetes\\.io/component} {.status.phase}{"\\n"}',
      ],
      { env: cluster.env, stdio: ['ignore', 'pipe', 'ignore'] },
    );
    let seen = '';
    watch.stdout.on('data', (d: Buffer) => {
      seen += d.toString();
      const lines = seen.split('\n');
      seen = lines.pop()!;
      for (const [component, phase] of lines.map((l) => l.split(' ')))
        if (component && hasRun(phase)) ran.add(component);
    });
    try {
      await kubectlOk(cluster, ['apply', '-f', '-'], JSON.stringify(cr));
      return await untilDone(name, ran);
    } finally {
      watch.kill();
    }
  }

  async function untilDone(name: string, ran: Set<string>): Promise<{ cr: ReplayView; ran: Set<string> }> {
    for (const deadline = Date.now() + 600_000; ; await delay(1000)) {
      const pods = JSON.parse(await kubectlOk(cluster, [...REPLAY_PODS, '-o', 'json'])) as {
        items: { metadata: { labels: Record<string, string> }; status: { phase: string } }[];
      };
      for (const p of pods.items)
        if (hasRun(p.status.phase)) ran.add(p.metadata.labels['app.kubernetes.io/component']);
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

  // Issue 14 on real pods: the release switched to the S3 store with 3 forwarders.
  let spread: { snapshotId: string; inbound: string[] } | undefined;

  it('forwarder.replicas: 3 on S3: one capture spread over the replicas, one of them replaced, seals ONE snapshot listing its writers, read back in capture order', async () => {
    const started = Date.now();
    s3 = await TestS3Server.start();
    await upgradeToS3(cluster, s3, 3);
    const forwarders = (await forwarderPods(cluster)).map((p) => p.metadata.name);
    assert.equal(forwarders.length, 3);
    await kubectlOk(cluster, ['scale', 'deploy/orders', '-n', SHOP_NS, '--replicas=3']);
    templateBefore = await templateJson(cluster, 'orders');
    const upgraded = Date.now();
    const { handle, snapshotId: id } = await startCapture('e2e-capture-replicas');
    const before = await spreadOverForwarders(cluster, id, { pods: 3, perPod: 2, rounds: 6 });
    // A replica deleted mid-capture flushes its share; its replacement joins, and the next
    // requests (on sidecars that reconnect) are kept wherever they land.
    const victim = (await countsPerForwarder(cluster, id)).find((f) => f.counts.pairs > 0)!;
    await replaceForwarder(cluster, victim.pod, id);
    forwarders.push(...(await forwarderPods(cluster)).map((p) => p.metadata.name));
    const sent = await spreadOverForwarders(cluster, id, {
      ...{ pods: 3, perPod: 2, rounds: 6 },
      ...{ sentBefore: before, pairsGone: victim.counts.pairs },
    });
    await handle.signal('stop');
    const r = (await handle.result()) as CaptureResult;
    assert.deepEqual(
      { id: r.snapshotId, pairs: r.pairs, inbound: r.inbound, outbound: r.outbound, dropped: r.dropped },
      { id, pairs: 2 * sent, inbound: sent, outbound: sent, dropped: 0 },
    );

    const res = await fetch(`${forwarderUrl}/snapshots/${id}/manifest`);
    assert.equal(res.status, 200);
    const manifest = (await res.json()) as SnapshotManifest;
    const writers = manifest.writers ?? [];
    // The 3 replicas that opened it, the deleted one among them, and its replacement.
    assert.equal(writers.length, 4, JSON.stringify(writers));
    for (const w of writers) {
      assert.equal(w.state, 'flushed', JSON.stringify(w));
      assert.ok(
        forwarders.some((pod) => w.writer.startsWith(pod)),
        `${w.writer} names a forwarder pod`,
      );
    }
    assert.ok(writers.filter((w) => w.pairs > 0).length >= 2, JSON.stringify(writers));
    assert.equal(
      writers.reduce((n, w) => n + w.pairs, 0),
      2 * sent,
    );
    assert.equal(manifest.counts.lost ?? 0, 0);
    assert.equal(manifest.counts.pairs, 2 * sent);

    // Read back through the Service (any replica), the writers merged in capture order: the
    // requests went one after the other, over the 3 orders pods, so request n's pairs (its call
    // to inventory, completed first, then its own) come before request n + 1's.
    const pairs = await snapshotPairs(forwarderUrl, id);
    assert.deepEqual(
      pairs.map((p) => `${p.direction} ${p.request.path}`),
      Array.from({ length: sent }, (_, i) => [
        `outbound /stock/sku-${i + 1}`,
        `inbound /orders/${i + 1}`,
      ]).flat(),
    );
    const inbound = pairs.filter((p) => p.direction === 'inbound');
    spread = { snapshotId: id, inbound: inbound.map((p) => p.id) };
    assert.equal(await templateJson(cluster, 'orders'), templateBefore);
    console.log(
      `S3 + 3 forwarders ${upgraded - started} ms, capture of ${sent} requests ${Date.now() - upgraded} ms, pairs per writer ${writers.map((w) => w.pairs).join('/')}`,
    );
  });

  it('a TrafficReplay with spec.generator.replicas: 2 runs 2 generator Jobs: one report, 2 rows, each request sent once, Passed', async () => {
    assert.ok(spread && s3, 'the replicas capture sealed a snapshot');
    const started = Date.now();
    const { cr, ran } = await replay('orders-replicas', spread.snapshotId, { generator: { replicas: 2 } });
    assert.equal(cr.status?.verdict, 'Passed', JSON.stringify(cr.status));
    assert.deepEqual([...ran].sort(), ['generator-1', 'generator-2', 'responder']);
    const replayId = cr.status!.reportId!;
    const report = JSON.parse(
      (await bucketObject(s3, `replays/${replayId}/report.json`))?.toString() ?? 'null',
    ) as Report;
    assert.equal(report.verdict, 'Passed');
    const rows = report.replicas ?? [];
    assert.deepEqual(
      rows.map((r) => [r.replica, r.errors, r.failure]),
      [
        ['1/2', 0, undefined],
        ['2/2', 0, undefined],
      ],
    );
    assert.ok(
      rows.every((r) => r.requests > 0),
      JSON.stringify(rows),
    );
    assert.equal(rows[0].requests + rows[1].requests, spread.inbound.length);
    const sentIds = [
      ...(await observedPairIds(s3, replayId, 0)),
      ...(await observedPairIds(s3, replayId, 1)),
    ];
    assert.deepEqual(sentIds.sort(), [...spread.inbound].sort());
    await assertNothingLabelled();
    console.log(`replay with 2 generator replicas ${Date.now() - started} ms`);
  });
});
