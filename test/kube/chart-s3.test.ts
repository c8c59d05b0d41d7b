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
  FULLNAME,
  VARIANTS,
  containerEnv,
  find,
  podSpec,
  render,
  startRenderedForwarder,
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
