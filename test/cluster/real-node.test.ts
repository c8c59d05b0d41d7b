/**
 * REAL NODE: the dev cluster with a real node (containerd, kubelet, kube-proxy, CNI bridge,
 * CoreDNS) in its own network namespace. One cluster for the file. CoreDNS is the workload:
 * it runs from an imported image, reads the API through the `kubernetes` Service, and
 * answers at its ClusterIP from the host. Then stop() must leave the machine as it found it.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Resolver } from 'node:dns/promises';
import { after, before, describe, it } from 'node:test';
import { startDevCluster, type DevCluster } from '../../tools/dev-cluster/index.js';
import { isRunning } from '../../tools/dev-cluster/processes.js';
import { readState, type ClusterState } from '../../tools/dev-cluster/state.js';
import { connectOutcome } from './connect-outcome.js';
import { startOwnedCluster, waitUntil } from './owned-cluster.js';
import {
  hostSnapshot,
  mountsUnder,
  processesNaming,
  withoutOtherClusters,
  type HostSnapshot,
} from './host-snapshot.js';

describe('dev cluster with a real node', () => {
  let cluster: DevCluster;
  let state: ClusterState;
  let beforeStart: HostSnapshot;

  before(async () => {
    beforeStart = hostSnapshot();
    const started = Date.now();
    cluster = await startDevCluster({ node: 'real' });
    console.log(`real-node cluster ready (CoreDNS Ready) in ${Date.now() - started} ms`);
    state = readState(cluster.dir)!;
  });
  after(() => cluster?.stop());

  it('the node is Ready with the pod and Service ranges of this cluster', async () => {
    const node = await cluster.kubectl(['get', 'node', cluster.nodeName, '-o', 'json']);
    assert.equal(node.code, 0, node.stderr);
    const status = (JSON.parse(node.stdout) as { status: { addresses: { type: string; address: string }[] } })
      .status;
    assert.deepEqual(
      status.addresses.find((a) => a.type === 'InternalIP'),
      { type: 'InternalIP', address: cluster.network.nodeIp },
    );
    const svc = await cluster.kubectl(['get', 'svc', 'kubernetes', '-o', 'jsonpath={.spec.clusterIP}']);
    assert.equal(svc.stdout, cluster.network.apiServiceIp);
  });

  it('CoreDNS runs in a pod and answers cluster names at its ClusterIP from the host', async () => {
    const pods = await cluster.kubectl([
      'get',
      'pods',
      '-n',
      'kube-system',
      '-l',
      'k8s-app=kube-dns',
      '-o',
      'json',
    ]);
    const pod = (JSON.parse(pods.stdout) as { items: { status: { podIP: string; phase: string } }[] })
      .items[0];
    assert.equal(pod.status.phase, 'Running');
    assert.ok(pod.status.podIP.startsWith(cluster.network.podGateway.split('.').slice(0, 2).join('.')));
    const resolver = new Resolver({ timeout: 2_000, tries: 5 });
    resolver.setServers([cluster.network.dnsServiceIp]);
    // kube-proxy syncs its rules a moment after the pod turns Ready: the resolver retries.
    assert.deepEqual(await resolver.resolve4('kubernetes.default.svc.cluster.local'), [
      cluster.network.apiServiceIp,
    ]);
    await assert.rejects(resolver.resolve4('registry.npmjs.org'), 'no name outside the cluster resolves');
  });

  it('kubectl logs reach the kubelet (API server -> node)', async () => {
    const logs = await cluster.kubectl(['logs', '-n', 'kube-system', 'deploy/coredns']);
    assert.equal(logs.code, 0, logs.stderr);
    assert.match(logs.stdout, /CoreDNS-1\.14\.7/);
  });

  it('addresses of the Service range with no Service behind them are refused at once', async () => {
    // Several in a row: the node answers every one (an `unreachable` route would answer about
    // one a second, the others would wait for a retransmission).
    const prefix = cluster.network.serviceCidr.replace(/0\/24$/, '');
    const outcomes = [];
    for (let last = 200; last < 210; last++) outcomes.push(await connectOutcome(`${prefix}${last}`, 443));
    assert.deepEqual(outcomes, Array(10).fill('ECONNREFUSED'));
  });

  it('stop() leaves no process, mount, link, iptables rule, CNI file or changed sysctl', async () => {
    const { dir } = cluster;
    assert.ok(state.processes.every(isRunning));
    assert.ok(mountsUnder(dir).length > 0, 'pods mount their volumes and root filesystems under the folder');
    await cluster.stop();
    for (const entry of state.processes)
      assert.ok(!isRunning(entry), `${entry.name} (pid ${entry.pid}) still runs`);
    assert.deepEqual(processesNaming(dir), [], 'no process names the cluster folder (containerd shims)');
    assert.deepEqual(mountsUnder(dir), []);
    assert.ok(!existsSync(`/run/netns/reprise-node-${cluster.network.slot}`));
    assert.ok(!existsSync(`/sys/fs/cgroup/pids/reprise-node-${cluster.network.slot}`));
    const slot = cluster.network.slot;
    assert.deepEqual(withoutOtherClusters(hostSnapshot(), slot), withoutOtherClusters(beforeStart, slot));
    assert.ok(!existsSync(cluster.dir));
  });
});

describe('a real node whose owner is killed', () => {
  it('the watchdog undoes everything: processes, mounts, namespace, cgroup, guard, sysctls', async () => {
    const before = hostSnapshot();
    const dir = path.join(mkdtempSync(path.join(tmpdir(), 'reprise-realnode-owner-')), 'cluster');
    const owner = await startOwnedCluster(dir, { node: 'real' });
    try {
      const owned = readState(dir)!;
      const slot = owned.network!.slot;
      assert.ok(owned.processes.every(isRunning));
      owner.kill('SIGKILL');
      // The folder goes last; then the watchdog (whose command line names it) exits.
      await waitUntil(
        'the watchdog to remove the cluster folder and exit',
        60_000,
        () => !existsSync(dir) && !isRunning(owned.watchdog!),
      );
      assert.ok(!owned.processes.some(isRunning));
      assert.deepEqual(processesNaming(dir), []);
      assert.deepEqual(mountsUnder(dir), []);
      assert.deepEqual(withoutOtherClusters(hostSnapshot(), slot), withoutOtherClusters(before, slot));
    } finally {
      owner.kill('SIGKILL');
      rmSync(path.dirname(dir), { recursive: true, force: true });
    }
  });
});
