/**
 * The chart's store.s3 settings with the real `helm` and a real S3 server (versitygw): they reach
 * the forwarder, the orchestrator and the operator, and the forwarder started as rendered seals a
 * snapshot into the bucket.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { openSnapshotStore } from '../../src/store/open.js';
import { TestS3Server } from '../../tools/versitygw.js';
import {
  CHART,
  FULLNAME,
  RELEASE,
  VARIANTS,
  containerEnv,
  find,
  helm,
  podSpec,
  render,
  startRenderedForwarder,
  type K8sObject,
} from './chart-render.js';

describe('chart with an S3 store', () => {
  test('store.s3 reaches the forwarder, orchestrator and operator; the forwarder seals into a real bucket with it', async () => {
    const s3 = await TestS3Server.start('reprise-snapshots');
    const home = mkdtempSync(path.join(tmpdir(), 'reprise-store-'));
    let forwarderProcess: { url: string; stop: () => Promise<void> } | undefined;
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
      forwarderProcess = await startRenderedForwarder(forwarder, home, {
        AWS_ACCESS_KEY_ID: keys.AWS_ACCESS_KEY_ID,
        AWS_SECRET_ACCESS_KEY: keys.AWS_SECRET_ACCESS_KEY,
      });
      const { url } = forwarderProcess;
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
      await forwarderProcess?.stop();
      await s3.close();
      rmSync(home, { recursive: true, force: true });
    }
  });
});

describe('chart with forwarder replicas', () => {
  test('forwarder.replicas runs that many forwarder pods on S3 and tells the orchestrator their Service', async () => {
    const { objects } = await render([...VARIANTS['s3 store'], '--set', 'forwarder.replicas=3']);
    const deployment = find<K8sObject & { spec: { replicas: number; strategy?: unknown } }>(
      objects,
      'Deployment',
      `${FULLNAME}-forwarder`,
    );
    assert.equal(deployment.spec.replicas, 3);
    assert.equal(deployment.spec.strategy, undefined, 'rolled one pod at a time, not recreated');
    const orchestrator = podSpec(deployment).containers.find((c) => c.name === 'orchestrator')!;
    assert.equal(containerEnv(orchestrator).REPRISE_FORWARDER_SERVICE, `${FULLNAME}-forwarder`);
    const role = find<K8sObject & { rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[] }>(
      objects,
      'Role',
      `${FULLNAME}-orchestrator`,
    );
    assert.ok(
      role.rules.some(
        (r) => r.apiGroups.includes('discovery.k8s.io') && r.resources.includes('endpointslices'),
      ),
      'the orchestrator may list the forwarder EndpointSlices',
    );
    // One replica (the default) keeps the single-forwarder path: no Service lookup.
    const single = await render(VARIANTS['s3 store']);
    const one = podSpec(find(single.objects, 'Deployment', `${FULLNAME}-forwarder`));
    assert.equal(
      containerEnv(one.containers.find((c) => c.name === 'orchestrator')!).REPRISE_FORWARDER_SERVICE,
      undefined,
    );
  });

  test('forwarder.replicas above 1 without the S3 store is refused, naming the value and what it needs', async () => {
    const { code, stderr } = await helm(['template', RELEASE, CHART, '--set', 'forwarder.replicas=2']);
    assert.notEqual(code, 0, 'two forwarders on one volume were rendered');
    assert.match(stderr, /forwarder\.replicas: 2 needs the S3 store \(set store\.s3\.bucket\)/);
  });
});
