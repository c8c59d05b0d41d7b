/**
 * The Kubernetes capture runtime over forwarder replicas: it finds them through their Service's
 * EndpointSlices on a real API server, opens the recording on each ready one, sums their counts
 * and seals over all of them into a real S3 server (versitygw). The forwarders are real processes
 * on loopback, so the slices are written by the test (as the endpoint controller would for pods),
 * as FQDN slices: the API server refuses a loopback address in an IPv4 one.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KubeCaptureRuntime } from '../../activities/kube/index.js';
import { KubeApi } from '../../src/kube/client/api.js';
import { serviceEndpointUrls } from '../../src/kube/client/service-endpoints.js';
import { openSnapshotStore } from '../../src/store/open.js';
import type { S3SnapshotStore } from '../../src/store/s3/store.js';
import { startDevCluster, type DevCluster } from '../../tools/dev-cluster/index.js';
import { TestS3Server } from '../../tools/versitygw.js';
import { startForwarderProcess, type ForwarderProcess } from '../helpers/forwarder-processes.js';
import { pair } from '../store/pairs.js';
import { kubeConfigOf } from './runtime-fixtures.js';

const NS = 'default';
const SERVICE = 'rp-forwarder';

function slice(name: string, port: number, ready: boolean) {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name,
      namespace: NS,
      labels: {
        'kubernetes.io/service-name': SERVICE,
        'endpointslice.kubernetes.io/managed-by': 'reprise-test',
      },
    },
    // The API server refuses loopback IPs in an IPv4 slice; an FQDN slice names the host instead.
    addressType: 'FQDN',
    ports: [{ name: 'http', port, protocol: 'TCP' }],
    endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready } }],
  };
}

describe('Kubernetes capture runtime over forwarder replicas', () => {
  let cluster: DevCluster;
  let api: KubeApi;
  let s3: TestS3Server;
  let home: string;
  const forwarders: ForwarderProcess[] = [];
  before(async () => {
    cluster = await startDevCluster();
    api = new KubeApi(kubeConfigOf(cluster.kubeconfigPath));
    s3 = await TestS3Server.start();
    home = await mkdtemp(path.join(tmpdir(), 'reprise-kube-replicas-'));
  });
  after(async () => {
    await Promise.all(forwarders.map((f) => f.kill()));
    await cluster?.stop();
    await s3?.close();
    await rm(home, { recursive: true, force: true });
  });

  it('opens, counts and seals on every ready endpoint of the forwarder Service', async () => {
    const env = { ...s3.env('kube'), REPRISE_REPLICA_FLUSH_SECONDS: '3600' };
    for (let i = 0; i < 3; i++) forwarders.push(await startForwarderProcess(home, env));
    const ports = forwarders.map((f) => Number(new URL(f.url).port));
    await api.ensure({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: SERVICE, namespace: NS },
      spec: { ports: [{ name: 'http', port: 8888 }] },
    });
    for (let i = 0; i < 3; i++) await api.ensure(slice(`${SERVICE}-${i}`, ports[i], true));
    // A pod not ready yet: never asked.
    await api.ensure(slice(`${SERVICE}-starting`, 9, false));
    assert.deepEqual(await serviceEndpointUrls(api, NS, SERVICE), forwarders.map((f) => f.url).sort());

    const store = openSnapshotStore(home, env) as S3SnapshotStore;
    const runtime = new KubeCaptureRuntime({
      kubeConfig: kubeConfigOf(cluster.kubeconfigPath),
      forwarderUrl: 'http://127.0.0.1:9',
      replicas: { namespace: NS, service: SERVICE, store },
    });
    const ctx = { heartbeat: () => {}, signal: new AbortController().signal };
    const ref = { captureId: 'capture-kube-replicas', snapshotId: 'snap-kube-replicas' };
    await runtime.openRecording({ ...ref, service: 'orders' }, ctx);
    for (let i = 0; i < 12; i++) {
      const res = await fetch(`${forwarders[i % 3].url}/v1/pairs`, {
        method: 'POST',
        headers: { 'x-reprise-service': 'orders' },
        body: JSON.stringify(pair(i)) + '\n',
      });
      assert.equal(res.status, 202);
    }
    assert.equal((await runtime.captureProgress(ref, ctx)).pairs, 12);

    const counts = await runtime.sealSnapshot(ref, ctx);
    assert.equal(counts.pairs, 12);
    const manifest = await store.getManifest(ref.snapshotId);
    assert.deepEqual(
      manifest.writers?.map((w) => [w.state, w.pairs]),
      [
        ['flushed', 4],
        ['flushed', 4],
        ['flushed', 4],
      ],
    );
    const ids: string[] = [];
    for await (const p of store.readPairs(ref.snapshotId)) ids.push(p.id);
    assert.deepEqual(
      ids,
      Array.from({ length: 12 }, (_, i) => `p-${i}`),
    );
  });
});
