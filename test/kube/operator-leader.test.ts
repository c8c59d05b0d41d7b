/**
 * Operator replicas elect one controller with a coordination.k8s.io Lease on the real API
 * server (the dev cluster): two operator processes with --leader-elect, one holds the Lease and
 * reconciles, the other only serves the webhooks. The holder is killed (SIGKILL: no release);
 * the other takes the Lease once it has expired and reconciles from then on. Every replay is
 * started once: one workflow per TrafficReplay, every recorded request at the app once per replay.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { DevCluster } from '../../tools/dev-cluster/index.js';
import type { TrafficReplay } from '../../src/kube/api/traffic-replay.js';
import type { CountingApp } from '../helpers/replay-fixtures.js';
import { waitFor } from '../workflows/loopback.js';
import {
  apply,
  getJson,
  startControllerOperator,
  type WebhookProcess,
  trafficReplayYaml as replay,
} from './operator-harness.js';
import { startControllerBed, type ControllerBed } from './controller-bed.js';

const LEASE = 'reprise-operator-controller';

interface Lease {
  spec: { holderIdentity?: string; leaseTransitions?: number };
}

describe('operator replicas with a Lease', { timeout: 600_000 }, () => {
  let bed: ControllerBed;
  let cluster: DevCluster;
  let temporal: TestWorkflowEnvironment;
  let app: CountingApp;
  let snapshotId: string;
  const operators = new Map<string, WebhookProcess>();

  before(async () => {
    bed = await startControllerBed('reprise-leader-');
    ({ cluster, temporal, snapshotId, app } = bed);
    const { tlsDir } = bed;
    for (const name of ['operator-a', 'operator-b']) {
      operators.set(
        name,
        await startControllerOperator(tlsDir, cluster, temporal, {
          args: ['--leader-elect', '--lease-duration', '3s'],
          env: { POD_NAME: name, POD_NAMESPACE: 'default' },
        }),
      );
    }
  });

  after(async () => {
    for (const op of operators.values()) await op.stop();
    await bed?.stop();
  });

  const holder = async () =>
    (await getJson<Lease>(cluster, ['lease', LEASE, '-n', 'default'])).spec.holderIdentity;
  const leads = (op: WebhookProcess) => op.logs().includes('leading: this replica reconciles');
  const reconciled = (op: WebhookProcess) => op.logs().includes('replay workflow started');

  async function replayOnce(name: string, expectedHits: number): Promise<string> {
    await apply(
      cluster,
      replay(name, {
        snapshotId,
        mode: 'generator-only',
        workloads: [{ customURL: app.url, mocks: [] }],
        load: { connections: 1 },
      }),
    );
    const done = await waitFor(
      `a verdict on TrafficReplay ${name}`,
      async () => {
        const r = await getJson<TrafficReplay>(cluster, ['trafficreplay', name]);
        return r.status?.verdict ? r : undefined;
      },
      180_000,
    );
    assert.equal(done.status?.verdict, 'Passed', JSON.stringify(done.status));
    for (const i of [1, 2, 3]) assert.equal(app.hits.get(`/items/${i}`), expectedHits, `/items/${i}`);
    return done.metadata.uid!;
  }

  it('only the Lease holder reconciles; killed, the other takes over and nothing starts twice', async () => {
    const first = await waitFor('one operator to hold the Lease', async () => holder(), 60_000);
    assert.ok(operators.has(first), `holder ${first}`);
    const other = first === 'operator-a' ? 'operator-b' : 'operator-a';
    assert.ok(leads(operators.get(first)!));
    assert.equal(leads(operators.get(other)!), false, 'both lead');

    const uid1 = await replayOnce('before-kill', 1);
    assert.ok(reconciled(operators.get(first)!));
    assert.equal(reconciled(operators.get(other)!), false, 'the standby started a workflow');

    const killed = operators.get(first)!;
    killed.child.kill('SIGKILL');
    await once(killed.child, 'exit');
    await waitFor('the standby to take the Lease', async () => (await holder()) === other, 60_000);
    await waitFor('the standby to lead', async () => leads(operators.get(other)!), 30_000);
    const lease = await getJson<Lease>(cluster, ['lease', LEASE, '-n', 'default']);
    assert.equal(lease.spec.leaseTransitions, 1);

    const uid2 = await replayOnce('after-kill', 2);
    // The first replay, finished, was not started again by the new leader; the second was started once.
    const ids: string[] = [];
    for await (const wf of temporal.client.workflow.list({ query: `WorkflowType = 'replayWorkflow'` }))
      ids.push(wf.workflowId);
    assert.deepEqual(ids.sort(), [uid1, uid2].sort());
    for (const i of [1, 2, 3]) assert.equal(app.hits.get(`/items/${i}`), 2, `/items/${i}`);
  });
});
