/**
 * `npm run demo:k8s` on the real node, as a user runs it (the compiled script, its printed
 * output and exit code), twice on ONE cluster in a folder of its own (so a user's
 * `npm run cluster:up` cluster in .cluster is never touched): the Passed run, then
 * DEMO_BROKEN=field reusing the running cluster, which is also what a person's second run does.
 * Then `cluster:down` for that folder, and nothing of it may be left on the machine.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { bodyText } from '../../src/model/body.js';
import { projectRoot } from '../../src/base/project-root.js';
import { CLIENT_TOKEN, DEMO_NS, PAYMENTS_URL } from '../../demo/k8s/app.js';
import { CLIENT_REQUESTS, EXPECTED_OUTBOUND } from '../../demo/k8s/capture.js';
import type { DemoResult } from '../../demo/k8s/result.js';
import { snapshotPairs } from '../../demo/k8s/snapshot.js';
import { isRunning } from '../../tools/dev-cluster/processes.js';
import { readState, type ClusterState } from '../../tools/dev-cluster/state.js';
import { teardownNow } from '../../tools/dev-cluster/teardown.js';
import { runProcess, type CliRun } from '../helpers/cli.js';
import {
  hostSnapshot,
  mountsUnder,
  processesNaming,
  withoutOtherClusters,
  type HostSnapshot,
} from './host-snapshot.js';

/** What java-client sends besides its token: none of it may reach the store. */
const SECRETS = [
  CLIENT_TOKEN,
  '4111 1111 1111 1111',
  '5500 0000 0000 0004',
  'ada.lovelace@example.com',
  'pk_demo_51HqLyjWDarjtT1zdp7dc',
];
/** One demo run; the cold one includes the cluster start and the chart (the images are built by `npm test`'s set-up). */
const RUN_BOUND_MS = 900_000;

describe('npm run demo:k8s on a real node', () => {
  let work: string;
  let dir: string;
  let beforeStart: HostSnapshot;
  let state: ClusterState | undefined;
  const safety = () => teardownNow(dir);

  before(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'reprise-demo-k8s-'));
    dir = path.join(work, 'cluster');
    beforeStart = hostSnapshot();
    // The demo leaves its cluster running by design: if this process dies, take it down.
    process.once('exit', safety);
  });
  after(async () => {
    await runProcess(process.execPath, [
      path.join(projectRoot, 'dist/tools/dev-cluster/cli.js'),
      'down',
      '--dir',
      dir,
    ]);
    process.removeListener('exit', safety);
    await rm(work, { recursive: true, force: true });
  });

  async function demo(broken: boolean): Promise<{ run: CliRun; result: DemoResult }> {
    const file = path.join(work, `result-${broken ? 'broken' : 'passed'}.json`);
    const run = await runProcess(
      process.execPath,
      [path.join(projectRoot, 'dist/demo/k8s/run.js'), '--dir', dir, '--result', file],
      { DEMO_BROKEN: broken ? 'field' : '' },
    );
    // What a person sees, in the test log (with the demo's own timings).
    console.log(run.stdout);
    assert.ok(existsSync(file), `the demo wrote no result (exit ${run.code}):\n${run.stdout}\n${run.stderr}`);
    return { run, result: JSON.parse(await readFile(file, 'utf8')) as DemoResult };
  }

  /** `kubectl get pods` rows: NAME READY STATUS. */
  const rows = (table: string) =>
    table
      .split('\n')
      .filter((l) => l && !l.startsWith('NAME') && !l.startsWith('$'))
      .map((l) => l.trim().split(/\s+/).slice(0, 3));

  it(
    'captures java-server in its pod (2/2) and replays it with payments stopped: Passed',
    { timeout: RUN_BOUND_MS },
    async () => {
      const { run, result } = await demo(false);
      assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
      state = readState(dir);
      assert.ok(
        state?.processes.some((p) => p.name === 'temporal' && isRunning(p)),
        'Temporal runs as a cluster component',
      );

      const capturing = rows(result.capturePods);
      const server = capturing.filter(([name]) => name.startsWith('java-server-'));
      assert.deepEqual(
        server.map(([, ready, status]) => [ready, status]),
        [['2/2', 'Running']],
        result.capturePods,
      );
      assert.deepEqual(
        capturing.filter(([name]) => name.startsWith('payments-')).map(([, ready]) => ready),
        ['1/1'],
        result.capturePods,
      );
      assert.ok(run.stdout.includes(result.capturePods.trimEnd()), 'the capture-time listing is printed');
      const replaying = rows(result.replayPods);
      for (const component of ['responder', 'generator'])
        assert.ok(
          replaying.some(([name]) => name.includes(component)),
          `${component} pod listed:\n${result.replayPods}`,
        );
      assert.equal(
        replaying.filter(([name]) => name.startsWith('payments-')).length,
        0,
        'payments is stopped',
      );
      assert.deepEqual(result.replayRan, ['generator', 'responder']);
      assert.ok(run.stdout.includes(result.replayPods), 'the replay-time listing is printed');

      assert.deepEqual(result.client, {
        requests: CLIENT_REQUESTS,
        failures: 0,
        statuses: result.client.statuses,
      });
      assert.deepEqual(
        [result.capture.inbound, result.capture.outbound, result.capture.dropped],
        [CLIENT_REQUESTS, EXPECTED_OUTBOUND, 0],
      );
      const pairs = await snapshotPairs(result.forwarderUrl, result.snapshotId);
      const inbound = pairs.filter((p) => p.direction === 'inbound');
      const outbound = pairs.filter((p) => p.direction === 'outbound');
      assert.equal(inbound.length, CLIENT_REQUESTS);
      assert.ok(inbound.every((p) => p.request.host === `java-server.${DEMO_NS}.svc.cluster.local`));
      const host = new URL(PAYMENTS_URL).host;
      const calls = outbound
        .map(
          (p) =>
            `${p.request.scheme} ${p.request.method} ${p.request.host}:${p.request.port}${p.request.path} ${p.response?.status}`,
        )
        .sort();
      assert.deepEqual(
        calls,
        [
          ...Array<string>(EXPECTED_OUTBOUND / 2).fill(`https GET ${host}:443/v1/rates 200`),
          ...Array<string>(EXPECTED_OUTBOUND / 2).fill(`https POST ${host}:443/v1/charges 201`),
        ].sort(),
      );
      for (const p of [...inbound, ...outbound]) {
        const auth = p.request.headers.find(([k]) => k.toLowerCase() === 'authorization')?.[1];
        if (auth !== undefined) assert.match(auth, /^Bearer REDACTED-secret-[0-9a-f]+$/);
      }
      assert.ok(
        inbound.some((p) => p.request.headers.some(([k]) => k.toLowerCase() === 'authorization')),
        'the client sent its bearer token',
      );
      for (const p of outbound.filter((x) => x.request.path === '/v1/charges')) {
        const body = JSON.parse(bodyText(p.request.body)) as Record<string, string>;
        assert.match(body.card, /^REDACTED-card-/);
        assert.match(body.email, /^REDACTED-email-/);
      }
      const stored = JSON.stringify(pairs);
      for (const secret of SECRETS) assert.ok(!stored.includes(secret), `the snapshot holds "${secret}"`);

      assert.equal(result.status.verdict, 'Passed', JSON.stringify(result.status));
      assert.match(run.stdout, /^verdict: Passed/m);
      assert.ok(result.reportDir && existsSync(path.join(result.reportDir, 'report.html')));
      assert.match(run.stdout, /^Temporal UI: http:\/\/127\.0\.0\.1:\d+/m);
      assert.match(run.stdout, /npm run cluster:down removes it/);
    },
  );

  it(
    'DEMO_BROKEN=field on the same running cluster: Missed Goals naming the field, exit 1',
    { timeout: RUN_BOUND_MS },
    async () => {
      assert.ok(state, 'the first run left its cluster running');
      const { run, result } = await demo(true);
      assert.equal(run.code, 1, `${run.stdout}\n${run.stderr}`);
      assert.match(run.stdout, /^cluster reused/m);
      assert.match(
        run.stderr.trimEnd().split('\n').pop() ?? '',
        /^demo:k8s: the replay's verdict is Missed Goals: assertionPassRate [\d.]+% \(goal ≥ 100%\); differing: POST \/orders \$\.totalCents$/,
      );
      assert.equal(result.status.verdict, 'Missed Goals');
      // Only the broken field: ids and timestamps differ on every run and are noise.
      assert.deepEqual(result.failedFields, ['POST /orders $.totalCents']);
      assert.match(run.stdout, /^ {2}differs: POST \/orders \$\.totalCents$/m);
      // The first run's Temporal was reused, not started again.
      const now = readState(dir)!;
      assert.deepEqual(
        now.processes.filter((p) => p.name === 'temporal').map((p) => p.pid),
        state.processes.filter((p) => p.name === 'temporal').map((p) => p.pid),
      );
    },
  );

  it('cluster:down leaves no process, guard rule, mount, link or CNI file', async () => {
    const last = readState(dir);
    assert.ok(last?.network, 'the cluster ran');
    const down = await runProcess(process.execPath, [
      path.join(projectRoot, 'dist/tools/dev-cluster/cli.js'),
      'down',
      '--dir',
      dir,
    ]);
    assert.equal(down.code, 0, down.stderr);
    for (const entry of last.processes)
      assert.ok(!isRunning(entry), `${entry.name} (pid ${entry.pid}) still runs`);
    assert.deepEqual(processesNaming(dir), [], 'no process names the cluster folder');
    assert.deepEqual(mountsUnder(dir), []);
    const slot = last.network.slot;
    const now = hostSnapshot();
    assert.equal(
      now.iptables.filter((l) => l.includes(`reprise-dev-cluster-slot-${slot}`)).length,
      0,
      'guard rules left',
    );
    assert.deepEqual(withoutOtherClusters(now, slot), withoutOtherClusters(beforeStart, slot));
    assert.ok(!existsSync(dir));
  });
});
