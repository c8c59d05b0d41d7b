/**
 * The controller with the Kubernetes runtime of the activities: a TrafficReplay naming a
 * Deployment on the real API server becomes a replayWorkflow that routes that workload to a
 * responder it creates; deleting the resource cancels the workflow, whose teardown removes
 * every object Reprise created and restores the workload byte for byte before the finalizer
 * goes. responder-only mode keeps the replay in Testing until then (KWOK runs no generator).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify as toYaml } from 'yaml';
import { replaySelector } from '../../activities/kube/common.js';
import type { ReplayResult } from '../../src/config/replay.js';
import { KubeApi } from '../../src/kube/client/api.js';
import type { DevCluster } from '../../tools/dev-cluster/index.js';
import type { TrafficReplay } from '../../src/kube/api/traffic-replay.js';
import type { WorkflowHarness } from '../workflows/harness.js';
import { waitFor } from '../workflows/loopback.js';
import {
  apply,
  getJson,
  installCrd,
  startControllerOperator,
  writeServingCert,
  type WebhookProcess,
} from './operator-harness.js';
import { APP_NS, labelled, OWN_NS, startKubeReplayStage, workloadJson } from './runtime-fixtures.js';

describe('TrafficReplay controller with the Kubernetes runtime', { timeout: 600_000 }, () => {
  let cluster: DevCluster;
  let api: KubeApi;
  let harness: WorkflowHarness;
  let operator: WebhookProcess;
  let dir: string;
  let snapshotId: string;
  let specBefore: string;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'reprise-controller-kube-'));
    const home = path.join(dir, 'home');
    ({ cluster, api, harness, snapshotId, specBefore } = await startKubeReplayStage(home));
    await installCrd(cluster);
    const { tlsDir } = await writeServingCert(dir);
    operator = await startControllerOperator(tlsDir, cluster, harness.env);
  });

  after(async () => {
    await operator?.stop();
    await harness?.close();
    await cluster?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('deleting the TrafficReplay tears down everything it created and restores the workload byte for byte', async () => {
    await apply(
      cluster,
      toYaml({
        apiVersion: 'replay.reprise.dev/v1alpha1',
        kind: 'TrafficReplay',
        metadata: { name: 'mocks', namespace: APP_NS },
        spec: {
          snapshotId,
          mode: 'responder-only',
          responderDuration: '10m',
          timeout: '15m',
          workloads: [{ ref: { name: 'orders' } }],
        },
      }),
    );
    const testing = await waitFor(
      'the replay to reach Testing with its mocks ready',
      async () => {
        const r = await getJson<TrafficReplay>(cluster, ['trafficreplay', 'mocks', '-n', APP_NS]);
        return r.status?.phase === 'Testing' ? r : undefined;
      },
      240_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\noperator log:\n${operator.logs()}`);
    });
    const mocks = testing.status?.conditions?.find((c) => c.type === 'MocksReady');
    assert.deepEqual([mocks?.status, mocks?.reason], ['True', 'ResponderReady']);
    const replayId = testing.status!.reportId!;
    // Mid-run: the workload is routed to the responder, and the responder exists.
    assert.notEqual(JSON.stringify((await workloadJson(api, APP_NS, 'orders')).spec), specBefore);
    assert.ok(
      (await labelled(api, [OWN_NS, APP_NS], replaySelector(replayId))).length > 0,
      'objects were created',
    );

    const del = await cluster.kubectl(['delete', 'trafficreplay', 'mocks', '-n', APP_NS, '--wait=false']);
    assert.equal(del.code, 0, del.stderr);
    await waitFor(
      'the deleted TrafficReplay to be gone',
      async () => (await cluster.kubectl(['get', 'trafficreplay', 'mocks', '-n', APP_NS])).code !== 0,
      240_000,
    );
    // The finalizer went after the workflow closed, and so after its teardown.
    const handle = harness.client.workflow.getHandle(testing.metadata.uid!);
    assert.notEqual((await handle.describe()).status.name, 'RUNNING');
    assert.equal(((await handle.result()) as ReplayResult).verdict, 'Canceled');
    assert.deepEqual(await labelled(api, [OWN_NS, APP_NS], replaySelector(replayId)), []);
    assert.equal(JSON.stringify((await workloadJson(api, APP_NS, 'orders')).spec), specBefore);
  });
});
