/**
 * `capture.reprise.dev/upstream-ca` against a real API server (KWOK node): a capture refuses,
 * naming the annotation, a ConfigMap that is missing, lacks `ca.crt` or holds no certificate,
 * before it annotates anything; with a usable one it switches the sidecar on.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KubeCaptureRuntime } from '../../activities/kube/index.js';
import { RuntimeError } from '../../activities/runtime.js';
import { validateCaptureInput } from '../../src/config/capture.js';
import { CAPTURE } from '../../src/kube/api/annotations.js';
import { KubeApi, resourcePath } from '../../src/kube/client/api.js';
import { startDevCluster, type DevCluster } from '../../tools/dev-cluster/index.js';
import { APP_NS, createWorkload, ctx, kubeConfigOf, readDeployment } from './runtime-fixtures.js';

describe('the upstream-ca annotation, checked by a capture', () => {
  let cluster: DevCluster;
  let api: KubeApi;
  let capture: KubeCaptureRuntime;

  before(async () => {
    cluster = await startDevCluster();
    api = new KubeApi(kubeConfigOf(cluster.kubeconfigPath));
    await createWorkload(api, APP_NS, 'payments-client', {
      annotations: { [CAPTURE.upstreamCa]: 'payments-ca' },
    });
    capture = new KubeCaptureRuntime({
      kubeConfig: kubeConfigOf(cluster.kubeconfigPath),
      forwarderUrl: 'http://127.0.0.1:1',
    });
  });
  after(() => cluster?.stop());

  const enable = () => {
    const config = validateCaptureInput({
      service: 'payments-client',
      target: { workload: { name: 'payments-client', namespace: APP_NS }, tlsIntercept: true },
    });
    return capture.enableCapture(
      {
        captureId: 'capture-upstream-ca',
        snapshotId: 'snap-upstream-ca',
        service: 'payments-client',
        target: config.target,
        recording: { forwarderUrl: '' },
      },
      ctx(),
    );
  };
  const setData = async (data: Record<string, string>) => {
    await api.remove(resourcePath('ConfigMap', APP_NS, 'payments-ca'));
    await api.ensure({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'payments-ca', namespace: APP_NS },
      data,
    });
  };

  it('refuses a missing ConfigMap, a missing key and a key without a certificate, annotating nothing', async () => {
    const refused = async (message: RegExp) =>
      assert.rejects(enable(), (err: RuntimeError) => {
        assert.equal(err.type, 'InvalidInput');
        assert.match(err.message, message);
        return true;
      });
    const where = `capture\\.reprise\\.dev/upstream-ca: ConfigMap "payments-ca" in namespace "${APP_NS}"`;
    await refused(new RegExp(`^${where} does not exist`));
    await setData({ 'ca.pem': 'x' });
    await refused(new RegExp(`^${where} has no key ca\\.crt \\(has: ca\\.pem\\)$`));
    await setData({ 'ca.crt': 'not a certificate' });
    await refused(new RegExp(`^${where} key ca\\.crt holds no PEM certificate$`));
    const d = await readDeployment(api, APP_NS, 'payments-client');
    assert.equal(d.spec.template.metadata?.annotations?.[CAPTURE.inject], undefined);
  });

  it('with a certificate under ca.crt the capture switches the sidecar on', async () => {
    // Any real certificate: the cluster's own CA.
    await setData({ 'ca.crt': cluster.caPem });
    await enable();
    const d = await readDeployment(api, APP_NS, 'payments-client');
    assert.equal(d.spec.template.metadata?.annotations?.[CAPTURE.inject], 'true');
  });
});
