/**
 * The Kubernetes runtimes against a real API server (KWOK plays the kubelet: pods turn Ready,
 * Job pods Succeed, nothing runs in them). Idempotent creation, exact restore of the workload,
 * exact capture annotations, cleanup by label, and the generator's clear failure without a
 * summary.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KubeCaptureRuntime, KubeReplayRuntime } from '../../activities/kube/index.js';
import { objectName, replaySelector } from '../../activities/kube/common.js';
import { RuntimeError } from '../../activities/runtime.js';
import { startForwarder, type Forwarder } from '../../src/forwarder/index.js';
import { KubeApi, resourcePath } from '../../src/kube/client/api.js';
import { CAPTURE, LABELS } from '../../src/kube/api/annotations.js';
import { startDevCluster, type DevCluster } from '../../tools/dev-cluster/index.js';
import { LoadConfig, ResponderConfig, WorkloadRef } from '../../src/config/replay.js';
import { validateCaptureInput } from '../../src/config/capture.js';
import { FsSnapshotStore } from '../../src/store/fs-store.js';
import {
  APP_NS,
  createWorkload,
  ctx,
  envOf,
  kubeConfigOf,
  labelled,
  OWN_NS,
  readDeployment,
  workloadJson,
  writeOrdersSnapshot,
} from './runtime-fixtures.js';
import { waitFor } from '../workflows/loopback.js';

describe('Kubernetes runtimes on a real API server', () => {
  let cluster: DevCluster;
  let api: KubeApi;
  let home: string;
  let snapshotId: string;
  let forwarder: Forwarder;
  const runtime = () =>
    new KubeReplayRuntime({
      kubeConfig: kubeConfigOf(cluster.kubeconfigPath),
      namespace: OWN_NS,
      image: 'registry.example/reprise:test',
      forwarderUrl: 'http://reprise-forwarder.reprise-system.svc:4150',
      home,
      // No activity limit applies here; a busy 2-core machine may roll out slowly.
      readyTimeoutMs: 150_000,
      teardownTimeoutMs: 150_000,
    });

  before(async () => {
    cluster = await startDevCluster();
    api = new KubeApi(kubeConfigOf(cluster.kubeconfigPath));
    home = await mkdtemp(path.join(tmpdir(), 'reprise-kube-rt-'));
    snapshotId = await writeOrdersSnapshot(home);
    forwarder = await startForwarder({ port: 0, home, store: new FsSnapshotStore(home) });
    await api.ensure({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: OWN_NS } });
    await createWorkload(api, APP_NS, 'orders');
    await createWorkload(api, APP_NS, 'billing');
  });
  after(async () => {
    await forwarder?.close();
    await cluster?.stop();
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('startResponder twice creates one Deployment and one Service, and waits until it is available', async () => {
    const rt = runtime();
    const replayId = 'resp-twice';
    const req = {
      replayId,
      snapshotId,
      config: ResponderConfig.parse({}),
    };
    const first = await rt.startResponder(req, ctx());
    const second = await runtime().startResponder(req, ctx());
    const name = objectName('responder', replayId);
    assert.equal(first.url, `http://${name}.${OWN_NS}.svc`);
    assert.deepEqual(second, first);
    const found = await labelled(api, [OWN_NS], replaySelector(replayId));
    assert.equal(found.filter((o) => o.startsWith('Deployment/')).length, 1);
    assert.equal(found.filter((o) => o.startsWith('Service/')).length, 1);
    const dep = await api.get<{
      status?: { availableReplicas?: number };
      spec: { template: { spec: { containers: { command: string[] }[] } } };
    }>(resourcePath('Deployment', OWN_NS, name));
    assert.equal(dep.status?.availableReplicas, 1);
    assert.deepEqual(dep.spec.template.spec.containers[0].command, [
      'node',
      '--max-semi-space-size=32',
      'dist/workers/responder.js',
    ]);
    await rt.cleanup({ replayId, cleanup: 'inventory' }, ctx());
    assert.deepEqual(await labelled(api, [OWN_NS], replaySelector(replayId)), []);
  });

  it('startApp routes the workload to the responder; stopApp restores its spec byte for byte, twice and from a new worker', async () => {
    const replayId = 'app-restore';
    const w = WorkloadRef.parse({ name: 'orders', namespace: APP_NS, container: 'app' });
    const before = JSON.stringify((await workloadJson(api, APP_NS, 'orders')).spec);
    const rt = runtime();
    const responderUrl = `http://${objectName('responder', replayId)}.${OWN_NS}.svc`;
    const started = await rt.startApp({ replayId, workload: w, responderUrl }, ctx());
    assert.equal(started.targetUrl, `http://orders.${APP_NS}.svc:8080`);

    const patched = await readDeployment(api, APP_NS, 'orders');
    const app = patched.spec.template.spec.containers.find((c) => c.name === 'app')!;
    const env = envOf(app);
    assert.equal(env.HTTP_PROXY, responderUrl);
    assert.equal(env.HTTPS_PROXY, responderUrl);
    assert.equal(env.MODE, 'test', 'the app keeps its own env');
    assert.ok(app.volumeMounts?.some((m) => m.name === 'reprise-ca'));
    const metrics = patched.spec.template.spec.containers.find((c) => c.name === 'metrics')!;
    assert.equal(metrics.env, undefined, 'only the named container is routed');
    const status = (
      await api.get<{ status: Record<string, number> }>(resourcePath('Deployment', APP_NS, 'orders'))
    ).status;
    assert.ok(
      status.observedGeneration >= (patched.metadata.generation ?? 0),
      'startApp waited for the rollout',
    );

    // A retry patches nothing more.
    const generation = patched.metadata.generation;
    await runtime().startApp({ replayId, workload: w, responderUrl }, ctx());
    assert.equal((await workloadJson(api, APP_NS, 'orders')).metadata?.generation, generation);

    // A second replay may not take the same workload.
    await assert.rejects(
      rt.startApp({ replayId: 'other-replay', workload: w, responderUrl }, ctx()),
      (err: RuntimeError) =>
        err.type === 'InvalidInput' && /routed to the responder of another replay/.test(err.message),
    );

    // A new worker (a new runtime instance) restores from the saved template.
    await runtime().stopApp({ replayId }, ctx());
    assert.equal(JSON.stringify((await workloadJson(api, APP_NS, 'orders')).spec), before);
    await rt.stopApp({ replayId }, ctx());
    assert.equal(JSON.stringify((await workloadJson(api, APP_NS, 'orders')).spec), before);

    await rt.cleanup({ replayId, cleanup: 'inventory' }, ctx());
    await rt.cleanup({ replayId: 'other-replay', cleanup: 'inventory' }, ctx());
    assert.deepEqual(await labelled(api, [OWN_NS, APP_NS], replaySelector(replayId)), []);
    assert.equal(JSON.stringify((await workloadJson(api, APP_NS, 'orders')).spec), before);
  });

  it('hostalias routing points the recorded hosts at the responder Service', async () => {
    const replayId = 'app-hostalias';
    const rt = runtime();
    const before = JSON.stringify((await workloadJson(api, APP_NS, 'billing')).spec);
    const config = ResponderConfig.parse({});
    const { url } = await rt.startResponder({ replayId, snapshotId, config }, ctx());
    const w = WorkloadRef.parse({ name: 'billing', namespace: APP_NS, routing: 'hostalias' });
    await rt.startApp({ replayId, workload: w, responderUrl: url }, ctx());
    const patched = await readDeployment(api, APP_NS, 'billing');
    const svc = await api.get<{ spec: { clusterIP: string } }>(
      resourcePath('Service', OWN_NS, objectName('responder', replayId)),
    );
    assert.deepEqual(patched.spec.template.spec.hostAliases, [
      { ip: svc.spec.clusterIP, hostnames: ['inventory.example'] },
    ]);
    const env = (patched.spec.template.spec.containers[0].env ?? []).map((e) => e.name);
    assert.ok(!env.includes('HTTP_PROXY'), 'hostalias routing sets no proxy');
    // cleanup restores a workload a failed teardown left patched, then removes everything.
    await rt.cleanup({ replayId, cleanup: 'inventory' }, ctx());
    assert.equal(JSON.stringify((await workloadJson(api, APP_NS, 'billing')).spec), before);
    assert.deepEqual(await labelled(api, [OWN_NS, APP_NS], replaySelector(replayId)), []);
    await rt.cleanup({ replayId, cleanup: 'inventory' }, ctx()); // everything already gone: 404s are fine
  });

  it('a JVM workload gets JAVA_TOOL_OPTIONS after its own and the truststore beside the CA; stopApp restores it', async () => {
    const replayId = 'app-jvm';
    await createWorkload(api, APP_NS, 'quotes', {
      annotations: { [CAPTURE.java]: 'true' },
      env: [{ name: 'JAVA_TOOL_OPTIONS', value: '-Xmx128m' }],
    });
    const before = JSON.stringify((await workloadJson(api, APP_NS, 'quotes')).spec);
    const rt = runtime();
    const responderUrl = `http://${objectName('responder', replayId)}.${OWN_NS}.svc`;
    await rt.startApp(
      { replayId, workload: WorkloadRef.parse({ name: 'quotes', namespace: APP_NS }), responderUrl },
      ctx(),
    );
    const patched = await readDeployment(api, APP_NS, 'quotes');
    const env = envOf(patched.spec.template.spec.containers[0]);
    assert.equal(
      env.JAVA_TOOL_OPTIONS,
      `-Xmx128m -Dreprise.jvm=replay -Dhttp.proxyHost=${objectName('responder', replayId)}.${OWN_NS}.svc ` +
        `-Dhttp.proxyPort=80 -Dhttps.proxyHost=${objectName('responder', replayId)}.${OWN_NS}.svc -Dhttps.proxyPort=80 ` +
        '-Dhttp.nonProxyHosts= -Djavax.net.ssl.trustStore=/etc/reprise/ca/truststore.jks ' +
        '-Djavax.net.ssl.trustStoreType=JKS -Djavax.net.ssl.trustStorePassword=changeit',
    );
    const ca = await api.get<{ binaryData?: Record<string, string> }>(
      resourcePath('ConfigMap', APP_NS, objectName('ca', replayId)),
    );
    const jks = Buffer.from(ca.binaryData?.['truststore.jks'] ?? '', 'base64');
    assert.equal(jks.readUInt32BE(0), 0xfeedfeed, 'a JKS truststore in the CA ConfigMap');
    await rt.stopApp({ replayId }, ctx());
    assert.equal(JSON.stringify((await workloadJson(api, APP_NS, 'quotes')).spec), before);
    await rt.cleanup({ replayId, cleanup: 'inventory' }, ctx());
  });

  it('startApp fails naming the field when the workload or its Service does not exist', async () => {
    const rt = runtime();
    await assert.rejects(
      rt.startApp(
        {
          replayId: 'missing',
          workload: WorkloadRef.parse({ name: 'nope', namespace: APP_NS, service: 'orders' }),
          responderUrl: 'http://x',
        },
        ctx(),
      ),
      (err: RuntimeError) =>
        err.type === 'InvalidInput' && /^target\.workload: Deployment shop\/nope not found/.test(err.message),
    );
    await assert.rejects(
      rt.startApp(
        {
          replayId: 'missing',
          workload: WorkloadRef.parse({ name: 'orders', namespace: APP_NS, service: 'nope' }),
        },
        ctx(),
      ),
      (err: RuntimeError) =>
        err.type === 'InvalidInput' &&
        /^target\.workload\.service: Service shop\/nope not found/.test(err.message),
    );
    await rt.cleanup({ replayId: 'missing', cleanup: 'inventory' }, ctx());
  });

  it('runGenerator fails clearly when the Job finishes without a summary, and cleanup leaves no Job', async () => {
    const replayId = 'gen-kwok';
    const rt = runtime();
    await assert.rejects(
      rt.runGenerator(
        {
          replayId,
          snapshotId,
          targetUrl: `http://orders.${APP_NS}.svc:8080`,
          load: LoadConfig.parse({}),
          transforms: [],
        },
        ctx(),
      ),
      (err: RuntimeError) => {
        assert.ok(err instanceof RuntimeError);
        assert.match(err.message, /^the generator Job finished without a summary/);
        assert.equal(err.retryable, false);
        return true;
      },
    );
    assert.ok(
      (await labelled(api, [OWN_NS], replaySelector(replayId))).includes(
        `Job/${objectName('generator', replayId)}`,
      ),
    );
    const logs = await rt.collectLogs({ replayId }, ctx());
    assert.ok(
      logs.some((l) => l.name.startsWith('generator pod')),
      'the generator pod is in the collected logs',
    );
    await rt.cleanup({ replayId, cleanup: 'inventory' }, ctx());
    assert.deepEqual(await labelled(api, [OWN_NS], replaySelector(replayId)), []);
  });

  it('runGenerator honours cancellation: it says Cancelled and deletes the Job it started', async () => {
    const replayId = 'gen-cancel';
    const rt = runtime();
    const controller = new AbortController();
    const jobName = objectName('generator', replayId);
    // No pod may start in the namespace: the Job cannot finish by itself (KWOK would complete its
    // pod at once), so only the cancellation can end this run.
    const quota = await cluster.kubectl(['create', 'quota', 'no-pods', '-n', OWN_NS, '--hard=pods=0']);
    assert.equal(quota.code, 0, quota.stderr);
    try {
      const outcome = rt
        .runGenerator(
          {
            replayId,
            snapshotId,
            targetUrl: 'http://orders.shop.svc:8080',
            load: LoadConfig.parse({}),
            transforms: [],
          },
          { heartbeat: () => {}, signal: controller.signal },
        )
        .then(
          () => 'finished',
          (err: RuntimeError) => err,
        );
      await waitFor('the generator Job', async () =>
        (await labelled(api, [OWN_NS], replaySelector(replayId))).includes(`Job/${jobName}`),
      );
      controller.abort();
      const err = await outcome;
      assert.ok(err instanceof RuntimeError, String(err));
      assert.equal(err.type, 'Cancelled', err.message);
      assert.equal(err.retryable, true);
      await waitFor(
        'the cancelled Job to be deleted',
        async () => !(await api.find(resourcePath('Job', OWN_NS, jobName))),
      );
    } finally {
      await cluster.kubectl(['delete', 'quota', 'no-pods', '-n', OWN_NS]);
    }
    await rt.cleanup({ replayId, cleanup: 'inventory' }, ctx());
    assert.deepEqual(await labelled(api, [OWN_NS], replaySelector(replayId)), []);
  });

  it('enableCapture annotates the pod template and disableCapture removes exactly that, each after a rollout', async () => {
    const capture = new KubeCaptureRuntime({
      kubeConfig: kubeConfigOf(cluster.kubeconfigPath),
      forwarderUrl: `http://127.0.0.1:${forwarder.port}`,
    });
    const ref = { captureId: 'Capture-Orders:1', snapshotId: 'snap-kube-capture-1' };
    const before = JSON.stringify((await workloadJson(api, APP_NS, 'orders')).spec);
    const beforeMeta = (await workloadJson(api, APP_NS, 'orders')).metadata!;
    const config = validateCaptureInput({
      service: 'orders',
      target: { workload: { name: 'orders', namespace: APP_NS }, tlsIntercept: true },
    });
    const recording = await capture.openRecording({ ...ref, service: 'orders' }, ctx());
    const endpoints = await capture.enableCapture(
      { ...ref, service: 'orders', target: config.target, recording },
      ctx(),
    );
    assert.deepEqual(endpoints, { inPort: 4143, outPort: 4140 });
    const annotated = await readDeployment(api, APP_NS, 'orders');
    const a = annotated.spec.template.metadata?.annotations ?? {};
    assert.equal(a[CAPTURE.inject], 'true');
    assert.equal(a[CAPTURE.inPort], '4143');
    assert.equal(a[CAPTURE.outPort], '4140');
    assert.equal(a[CAPTURE.tlsOut], 'true');
    assert.equal(a[CAPTURE.service], 'orders');
    assert.equal(a['example.com/keep'], 'yes');
    assert.ok(annotated.metadata.labels?.[LABELS.captureId], 'the workload is findable by its capture label');
    const status = (
      await api.get<{ status: Record<string, number> }>(resourcePath('Deployment', APP_NS, 'orders'))
    ).status;
    assert.equal(
      status.observedGeneration,
      annotated.metadata.generation,
      'enableCapture waited for the rollout',
    );
    assert.equal(status.updatedReplicas, 1);

    const progress = await capture.captureProgress(ref, ctx());
    assert.equal(progress.capturing, true);
    assert.equal(progress.pairs, 0);

    await capture.disableCapture(ref, ctx());
    const after = await workloadJson(api, APP_NS, 'orders');
    assert.equal(JSON.stringify(after.spec), before);
    assert.deepEqual(after.metadata?.labels, beforeMeta.labels);
    assert.equal(after.metadata?.annotations?.['capture.reprise.dev/set-by-capture'], undefined);
    const rolled = (
      await api.get<{ status: Record<string, number> }>(resourcePath('Deployment', APP_NS, 'orders'))
    ).status;
    assert.equal(
      rolled.observedGeneration,
      after.metadata?.generation,
      'disableCapture waited for the rollout',
    );
    assert.equal((await capture.captureProgress(ref, ctx())).capturing, false);

    // Twice, and teardown after it: nothing left to remove.
    await capture.disableCapture(ref, ctx());
    await capture.teardown(ref, ctx());
    await capture.abortRecording(ref, ctx());
    assert.equal(JSON.stringify((await workloadJson(api, APP_NS, 'orders')).spec), before);
  });

  it('enableCapture without a workload fails naming target.workload', async () => {
    const capture = new KubeCaptureRuntime({
      kubeConfig: kubeConfigOf(cluster.kubeconfigPath),
      forwarderUrl: 'http://127.0.0.1:1',
    });
    const config = validateCaptureInput({ target: { appPort: 8080 } });
    await assert.rejects(
      capture.enableCapture(
        {
          captureId: 'c',
          snapshotId: 's',
          service: 'app',
          target: config.target,
          recording: { forwarderUrl: '' },
        },
        ctx(),
      ),
      (err: RuntimeError) => err.type === 'InvalidInput' && /^target\.workload: /.test(err.message),
    );
  });
});
