/**
 * REAL NODE + IMAGE, one cluster for issue 12 items 6 and 7:
 *  - the operator's webhooks live: a bad TrafficReplay is refused by the running operator with
 *    the field named in kubectl's output; with the operator scaled to 0, an annotated Deployment
 *    still rolls out (the pod webhook fails open) and a TrafficReplay is refused by the chart's
 *    policy saying the operator is down;
 *  - `reprise capture|replay --workload deploy/NAME -n NS`: bad input as one line naming the
 *    flag, and a real capture and replay of a workload through the Temporal the chart points at.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { DevCluster } from '../../tools/dev-cluster/index.js';
import type { RepriseImage } from '../../tools/dev-cluster/image.js';
import { CAPTURE, SIDECAR_CONTAINER } from '../../src/kube/api/annotations.js';
import { exitCodeFor } from '../../cli/commands/replay.js';
import { assertOneLine, REPLAY_JSON_KEYS, runCli, type CliRun } from '../helpers/cli.js';
import { RELEASE_NS, podReady, startChartCluster, trafficReplayJson, type Pod } from './chart-fixtures.js';
import { waitUntil } from './owned-cluster.js';
import { appDeployment, appService, deployApp } from './workload-app.js';

const OPERATOR = 'rp-reprise-operator';
const NS = 'shop';
const APP = 'echo';

const trafficReplay = (name: string, workload: string) => trafficReplayJson(name, NS, 'snap-any', workload);

describe('live webhooks and `--workload` on a real node', () => {
  let cluster: DevCluster;
  let temporal: TestWorkflowEnvironment & { port: number };
  let image: RepriseImage;
  let home: string;
  /** A user's shell: KUBECONFIG set, no TEMPORAL_*, its own REPRISE_HOME. */
  let userEnv: NodeJS.ProcessEnv;

  const kubectl = async (...args: string[]) => {
    const r = await cluster.kubectl(args, { timeoutMs: 150_000 });
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const pods = async (selector: string, ns = NS) =>
    (JSON.parse(await kubectl('get', 'pods', '-n', ns, '-l', selector, '-o', 'json')) as { items: Pod[] })
      .items;

  before(async () => {
    const started = Date.now();
    ({ cluster, temporal, image } = await startChartCluster());
    await kubectl('create', 'namespace', NS);
    await deployApp(cluster, [appDeployment(APP, NS, image.name), appService(APP, NS)], NS, APP);
    home = mkdtempSync(path.join(tmpdir(), 'reprise-kubelive-'));
    userEnv = {
      KUBECONFIG: cluster.kubeconfigPath,
      REPRISE_HOME: home,
      TEMPORAL_ADDRESS: '',
      TEMPORAL_NAMESPACE: '',
      REPRISE_LOG_JSON: '',
    };
    console.log(`cluster, chart and app ready in ${Date.now() - started} ms`);
  });
  after(async () => {
    await cluster?.stop();
    await temporal?.teardown();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('a bad TrafficReplay is refused by the running operator, the field named in kubectl’s output', async () => {
    const applied = await cluster.kubectl(['apply', '-f', '-'], { input: trafficReplay('bad', 'nope') });
    assert.notEqual(applied.code, 0, applied.stdout);
    assert.match(
      applied.stderr,
      /admission webhook "validate\.trafficreplays\.replay\.reprise\.dev" denied the request/,
    );
    assert.match(applied.stderr, /spec\.workloads\[0\]\.ref\.name: Deployment shop\/nope not found/);
  });

  it('--workload without a cluster, with a missing namespace or workload: one line naming the flag', async () => {
    const noCluster = mkdtempSync(path.join(tmpdir(), 'reprise-nohome-'));
    try {
      const cases: [string[], NodeJS.ProcessEnv, RegExp][] = [
        [
          ['capture', '--workload', `deploy/${APP}`, '-n', NS],
          { KUBECONFIG: '', HOME: noCluster },
          /^reprise: --workload needs a cluster: KUBECONFIG is not set and .*\.kube\/config does not exist/,
        ],
        [
          ['capture', '--workload', `deploy/${APP}`, '-n', 'nowhere'],
          {},
          /^reprise: -n nowhere: no such namespace/,
        ],
        [
          ['capture', '--workload', 'deploy/nope', '-n', NS],
          {},
          /^reprise: --workload deploy\/nope: no Deployment "nope" in namespace shop \(see `reprise capture --help`\)$/,
        ],
        [
          ['replay', 'snap-x', '--workload', 'deploy/nope', '-n', NS],
          {},
          /^reprise: --workload deploy\/nope: no Deployment/,
        ],
        [
          ['replay', 'snap-x', '--workload', `deploy/${APP}`, '-n', 'nowhere'],
          {},
          /^reprise: -n nowhere: no such namespace/,
        ],
        [
          ['capture', '--workload', 'pod/x'],
          {},
          /^reprise: --workload: expected KIND\/NAME such as deploy\/checkout/,
        ],
      ];
      for (const [args, env, message] of cases) {
        assertOneLine(await runCli(args, { ...userEnv, ...env }), 2, message, args.join(' '));
      }
    } finally {
      rmSync(noCluster, { recursive: true, force: true });
    }
  });

  let snapshotId = '';

  it('capture --workload records the pod’s traffic through the chart’s Temporal and orchestrator', async () => {
    const before = await kubectl('get', 'deploy', APP, '-n', NS, '-o', 'jsonpath={.spec.template}');
    const run = runCli(
      ['capture', '--workload', `deploy/${APP}`, '-n', NS, '--service', APP, '--duration', '40s', '--json'],
      userEnv,
    );
    let sidecarPod: Pod | undefined;
    await waitUntil('a Ready pod of the workload with the sidecar', 90_000, async () => {
      sidecarPod = (await pods(`app=${APP}`)).find(
        (p) =>
          // A terminating pod is not one a Service would send to.
          !p.metadata.deletionTimestamp &&
          p.spec.containers.some((c) => c.name === SIDECAR_CONTAINER) &&
          // Not every(container ready) over the statuses: a pod not started yet has none.
          podReady(p),
      );
      return sidecarPod !== undefined;
    });
    for (let i = 0; i < 5; i++) {
      const url = `http://${sidecarPod!.status.podIP}:4143/orders/${i}`;
      // undici says only "fetch failed": name the socket error and the pod, so a failure says why.
      const res = await fetch(url).catch(
        async (err: Error & { cause?: { code?: string; message?: string } }) => {
          const now = await pods(`app=${APP}`);
          const states = now.map(
            (p) =>
              `${p.metadata.name} ${p.status.podIP ?? '-'} ${p.status.phase ?? '-'}${p.metadata.deletionTimestamp ? ' (terminating)' : ''}`,
          );
          throw new Error(
            `GET ${url} (pod ${sidecarPod!.metadata.name}): ${err.cause?.code ?? err.cause?.message ?? err.message}; pods now: ${states.join(', ')}`,
          );
        },
      );
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { path: `/orders/${i}`, method: 'GET' });
    }
    const done: CliRun = await run;
    assert.equal(done.code, 0, done.stderr);
    const result = JSON.parse(done.stdout) as Record<string, unknown>;
    assert.deepEqual(Object.keys(result).sort(), ['bytes', 'dropped', 'pairs', 'snapshotId', 'workflowId']);
    assert.equal(result.pairs, 5, done.stderr);
    assert.equal(result.dropped, 0);
    assert.match(
      done.stderr,
      /capturing Deployment echo in shop: .*TEMPORAL_ADDRESS of deploy\/rp-reprise-forwarder in reprise-system/,
    );
    snapshotId = String(result.snapshotId);
    // The capture is over: the workload's template is what it was.
    assert.equal(await kubectl('get', 'deploy', APP, '-n', NS, '-o', 'jsonpath={.spec.template}'), before);
  });

  it('replay SNAP --workload runs replayWorkflow in the cluster, with the local --json and exit codes', async () => {
    assert.ok(snapshotId, 'the capture test gave no snapshot');
    const run = await runCli(
      ['replay', snapshotId, '--workload', `deploy/${APP}`, '-n', NS, '--json'],
      userEnv,
    );
    const result = JSON.parse(run.stdout) as Record<string, unknown>;
    assert.deepEqual(Object.keys(result).sort(), REPLAY_JSON_KEYS);
    // The echo app's command holds `=>`: routing it to the responder is a JSON patch whose
    // `test` must match the server's bytes (goJson), or the replay ends in Error.
    assert.equal(result.verdict, 'Passed', run.stderr);
    assert.equal(run.code, exitCodeFor(String(result.verdict)), run.stderr);
    // Run by the cluster's orchestrator: the report is in the forwarder's store, not this machine's.
    assert.ok(!String(result.reportPath).startsWith(home), String(result.reportPath));
  });

  it('with the operator scaled to 0: an annotated Deployment still rolls out, a TrafficReplay is refused saying the operator is down', async () => {
    await kubectl('scale', 'deployment', OPERATOR, '-n', RELEASE_NS, '--replicas=0');
    await waitUntil('no operator pod and no ready replica', 60_000, async () => {
      const ready = await kubectl(
        'get',
        'deploy',
        OPERATOR,
        '-n',
        RELEASE_NS,
        '-o',
        'jsonpath={.status.readyReplicas}',
      );
      return ready === '' && (await pods('app.kubernetes.io/component=operator', RELEASE_NS)).length === 0;
    });
    await deployApp(
      cluster,
      [appDeployment('late', NS, image.name, { [CAPTURE.inject]: 'true' })],
      NS,
      'late',
    );
    const [late] = await pods('app=late');
    assert.deepEqual(
      late.spec.containers.map((c) => c.name),
      ['app'],
      'the webhook could not be called, so the pod runs as it was written',
    );

    const refused = await cluster.kubectl(['apply', '-f', '-'], { input: trafficReplay('while-down', APP) });
    assert.notEqual(refused.code, 0, refused.stdout);
    assert.match(
      refused.stderr,
      /the Reprise operator is down: Deployment reprise-system\/rp-reprise-operator has no ready pod/,
    );
    assert.doesNotMatch(refused.stderr, /connection refused|failed calling webhook/);
  });
});
