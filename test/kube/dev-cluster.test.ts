/**
 * The test Kubernetes cluster: a real control plane whose Deployments roll out through KWOK,
 * with kubectl and helm pointed at it, and nothing left running after stop() (or after its
 * owner is killed).
 */
import { AppsV1Api, CoreV1Api, KubeConfig, Watch, type V1Deployment } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { startDevCluster, type DevCluster } from '../../tools/dev-cluster/index.js';
import { isRunning, type ProcessEntry } from '../../tools/dev-cluster/processes.js';
import { readState, type ClusterState } from '../../tools/dev-cluster/state.js';
import { guardRules } from '../../tools/dev-cluster/guard.js';
import { startOwnedCluster, waitUntil } from '../cluster/owned-cluster.js';
import { projectRoot } from '../../src/base/project-root.js';

const DEPLOYMENT = 'hello';
const CLI = path.join(projectRoot, 'dist/tools/dev-cluster/cli.js');

/** Runs the dev-cluster CLI; resolves with its exit code and output whatever the code. */
async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, ...args], {
      timeout: 90_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const { code, stdout, stderr, killed } = err as {
      code: number;
      stdout: string;
      stderr: string;
      killed: boolean;
    };
    if (killed) throw new Error(`cli.js ${args.join(' ')} did not finish within 90 s`);
    return { code, stdout, stderr };
  }
}

const deployment: V1Deployment = {
  metadata: { name: DEPLOYMENT, labels: { app: DEPLOYMENT } },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: DEPLOYMENT } },
    template: {
      metadata: { labels: { app: DEPLOYMENT } },
      spec: {
        // KWOK honours the grace period when pods go: keep rollouts quick.
        terminationGracePeriodSeconds: 1,
        containers: [{ name: 'app', image: 'registry.example/hello:1', ports: [{ containerPort: 8080 }] }],
      },
    },
  },
};

/** Resolves when `port` on loopback refuses connections. */
function portClosed(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

/** Everything a cluster's state names: its components and its watchdog. */
const processesOf = (state: ClusterState): ProcessEntry[] => [
  ...state.processes,
  ...(state.watchdog ? [state.watchdog] : []),
];

describe('dev cluster', () => {
  let cluster: DevCluster;
  let state: ClusterState;

  before(async () => {
    const started = Date.now();
    cluster = await startDevCluster();
    console.log(`dev cluster ready in ${Date.now() - started} ms`);
    state = readState(cluster.dir)!;
  });
  after(() => cluster?.stop());

  it('rolls a Deployment out to a Ready pod through KWOK', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(cluster.kubeconfigPath);
    await kc.makeApiClient(AppsV1Api).createNamespacedDeployment({ namespace: 'default', body: deployment });

    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 30_000);
    try {
      await new Promise<void>((resolve, reject) => {
        controller.signal.addEventListener('abort', () =>
          reject(new Error(`Deployment ${DEPLOYMENT} had no ready replica within 30 s`)),
        );
        void new Watch(kc)
          .watch(
            '/apis/apps/v1/namespaces/default/deployments',
            { fieldSelector: `metadata.name=${DEPLOYMENT}` },
            (_type, obj: V1Deployment) => {
              if (obj.status?.readyReplicas === 1) resolve();
            },
            (err: unknown) => {
              if (err) reject(err as Error);
            },
          )
          .then(
            (watchAbort) => controller.signal.addEventListener('abort', () => watchAbort.abort()),
            reject,
          );
      });
    } finally {
      clearTimeout(timer);
      controller.abort();
    }

    const pods = await kc
      .makeApiClient(CoreV1Api)
      .listNamespacedPod({ namespace: 'default', labelSelector: `app=${DEPLOYMENT}` });
    assert.equal(pods.items.length, 1);
    const pod = pods.items[0];
    assert.equal(pod.spec?.nodeName, 'kwok-node-0');
    assert.equal(pod.status?.phase, 'Running');
    assert.ok(pod.status?.podIP, 'KWOK gave the pod an IP');
    assert.ok(pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
  });

  it('kubectl and helm reach the cluster', async () => {
    const get = await cluster.kubectl(['get', 'deploy', DEPLOYMENT, '-o', 'json']);
    assert.equal(get.code, 0, get.stderr);
    assert.equal((JSON.parse(get.stdout) as V1Deployment).status?.readyReplicas, 1);

    const applied = await cluster.kubectl(['apply', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'from-stdin' },
        data: { a: 'b' },
      }),
    });
    assert.equal(applied.code, 0, applied.stderr);

    const version = await cluster.helm(['version', '--short']);
    assert.equal(version.code, 0, version.stderr);
    assert.match(version.stdout, /^v4\./);
    const list = await cluster.helm(['list', '-A', '-o', 'json']);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(JSON.parse(list.stdout), []);
  });

  it('stop() leaves no process, no open port and no folder', async () => {
    const entries = processesOf(state);
    assert.equal(state.processes.length, 5);
    assert.ok(entries.every(isRunning));
    await cluster.stop();
    for (const entry of entries) assert.ok(!isRunning(entry), `${entry.name} (pid ${entry.pid}) still runs`);
    for (const [name, port] of Object.entries(state.ports))
      assert.ok(await portClosed(port), `${name} port ${port} open`);
    assert.ok(!existsSync(cluster.dir));
  });
});

describe('dev cluster lifecycle', () => {
  it('names the missing binary and the command that gets it', async () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'reprise-devcluster-no-tools-'));
    const saved = process.env.REPRISE_TOOLS;
    process.env.REPRISE_TOOLS = empty;
    try {
      await assert.rejects(startDevCluster(), (err: Error) => {
        assert.match(err.message, /kube-tools\/kubectl/);
        assert.match(err.message, /k8s\/bin\/kube-apiserver/);
        assert.match(err.message, /node scripts\/ensure-kube-tools\.mjs/);
        return true;
      });
    } finally {
      if (saved === undefined) delete process.env.REPRISE_TOOLS;
      else process.env.REPRISE_TOOLS = saved;
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('a start that runs out of time names what it waited for and leaves nothing behind', async () => {
    const dir = path.join(mkdtempSync(path.join(tmpdir(), 'reprise-devcluster-slow-')), 'cluster');
    let state: ClusterState | undefined;
    let waitedFor = '';
    try {
      // 1.5 s: the API server cannot be ready yet (on a loaded machine even etcd may not be).
      const start = startDevCluster({ dir, readyTimeoutMs: 1_500, keep: true });
      await assert.rejects(start, (err: Error) => {
        const waited = /timed out \(start bound 1500 ms\) waiting for (kube-apiserver|etcd) (.*)/.exec(
          err.message,
        );
        assert.ok(waited, err.message);
        const [, component, what] = waited;
        waitedFor = component!;
        assert.match(what!, component === 'etcd' ? /to answer on http:.*\/health/ : /.*\/readyz/);
        assert.match(err.message, new RegExp(`${component} log \\(.*${component}\\.log\\):\\n`));
        assert.match(err.message, /logs kept in/);
        return true;
      });
      state = readState(dir);
      const started = waitedFor === 'etcd' ? 1 : 2;
      assert.ok(state && state.processes.length >= started, `the processes up to ${waitedFor} were started`);
      assert.ok(!processesOf(state).some(isRunning));
    } finally {
      rmSync(path.dirname(dir), { recursive: true, force: true });
    }
  });

  it('the watchdog stops the cluster and removes its guard when its owner is killed', async () => {
    const dir = path.join(mkdtempSync(path.join(tmpdir(), 'reprise-devcluster-owner-')), 'cluster');
    const owner = await startOwnedCluster(dir);
    try {
      const owned = readState(dir)!;
      assert.ok(processesOf(owned).every(isRunning));
      assert.ok(guardRules(owned.network!.slot).length > 0);
      owner.kill('SIGKILL');
      await waitUntil(
        'the watchdog to stop the orphaned cluster',
        20_000,
        () => !processesOf(owned).some(isRunning),
      );
      await waitUntil('the watchdog to remove the cluster folder', 5_000, () => !existsSync(dir));
      assert.deepEqual(guardRules(owned.network!.slot), []);
    } finally {
      owner.kill('SIGKILL');
      rmSync(path.dirname(dir), { recursive: true, force: true });
    }
  });

  it('the CLI: up is idempotent, status reports, down stops everything', async () => {
    const dir = path.join(mkdtempSync(path.join(tmpdir(), 'reprise-devcluster-cli-')), 'cluster');
    try {
      const up = await cli(['up', '--node', 'kwok', '--dir', dir]);
      assert.equal(up.code, 0, up.stderr);
      assert.equal(
        up.stdout,
        `export KUBECONFIG=${dir}/kubeconfig\nexport PATH=${path.join(projectRoot, '.tools/kube-tools')}:$PATH\n`,
      );
      const state = readState(dir)!;
      // Detached: no watchdog, the cluster outlives the command.
      assert.equal(state.watchdog, undefined);
      assert.ok(state.processes.every(isRunning));

      const again = await cli(['up', '--node', 'kwok', '--dir', dir]);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stderr, /already running/);
      assert.deepEqual(readState(dir)!.processes, state.processes);

      const status = await cli(['status', '--dir', dir, '--json']);
      assert.equal(status.code, 0, status.stderr);
      assert.equal((JSON.parse(status.stdout) as { ready: boolean }).ready, true);

      const down = await cli(['down', '--dir', dir]);
      assert.equal(down.code, 0, down.stderr);
      assert.ok(!state.processes.some(isRunning));
      assert.ok(!existsSync(dir));
      assert.equal((await cli(['status', '--dir', dir])).code, 1);
    } finally {
      await cli(['down', '--dir', dir]);
      rmSync(path.dirname(dir), { recursive: true, force: true });
    }
  });
});
