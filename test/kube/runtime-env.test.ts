/** REPRISE_RUNTIME=kubernetes: the orchestrator's environment is checked, naming the variable. */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KubeCaptureRuntime, KubeReplayRuntime } from '../../activities/kube/index.js';
import { kubeRuntimesFromEnv, RuntimeEnvError } from '../../activities/kube/env.js';

describe('kubeRuntimesFromEnv', () => {
  let dir: string;
  let kubeconfig: string;
  let good: NodeJS.ProcessEnv;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'reprise-kenv-'));
    kubeconfig = path.join(dir, 'kubeconfig');
    await writeFile(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443"}}]',
        'users: [{name: u, user: {token: t}}]',
        'contexts: [{name: x, context: {cluster: c, user: u}}]',
        'current-context: x',
      ].join('\n'),
    );
    good = {
      REPRISE_RUNTIME: 'kubernetes',
      KUBECONFIG: kubeconfig,
      REPRISE_NAMESPACE: 'reprise',
      REPRISE_IMAGE: 'ghcr.io/example/reprise:0.1.0',
      REPRISE_FORWARDER_URL: 'http://reprise-forwarder.reprise.svc:4150',
    };
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('keeps the local runtime when REPRISE_RUNTIME is unset or local', () => {
    assert.equal(kubeRuntimesFromEnv({}, dir), undefined);
    assert.equal(kubeRuntimesFromEnv({ REPRISE_RUNTIME: 'local' }, dir), undefined);
  });

  it('builds both Kubernetes runtimes from a complete environment', () => {
    const r = kubeRuntimesFromEnv(good, dir);
    assert.ok(r?.runtime instanceof KubeCaptureRuntime);
    assert.ok(r?.replayRuntime instanceof KubeReplayRuntime);
    assert.equal(r.replayRuntime.options.namespace, 'reprise');
    assert.equal(r.runtime.options.forwarderUrl, good.REPRISE_FORWARDER_URL);
  });

  for (const [change, variable, expected] of [
    [{ REPRISE_RUNTIME: 'k8s' }, 'REPRISE_RUNTIME', /expected local or kubernetes/],
    [{ KUBECONFIG: '/nope/kubeconfig' }, 'KUBECONFIG', /no such file/],
    [{ KUBECONFIG: undefined, KUBERNETES_SERVICE_HOST: undefined }, 'KUBECONFIG', /outside a cluster/],
    [{ REPRISE_NAMESPACE: undefined }, 'REPRISE_NAMESPACE', /required/],
    [{ REPRISE_NAMESPACE: 'Reprise_NS' }, 'REPRISE_NAMESPACE', /expected a namespace name/],
    [{ REPRISE_IMAGE: '' }, 'REPRISE_IMAGE', /required/],
    [{ REPRISE_FORWARDER_URL: 'reprise-forwarder:4150' }, 'REPRISE_FORWARDER_URL', /http:\/\/ or https:\/\//],
  ] as const) {
    it(`names ${variable} when ${Object.entries(change)
      .map(([k, v]) => `${k}=${v ?? '(unset)'}`)
      .join(' ')}`, () => {
      assert.throws(
        () => kubeRuntimesFromEnv({ ...good, ...change }, dir),
        (err: Error) => {
          assert.ok(err instanceof RuntimeEnvError);
          assert.equal(err.variable, variable);
          assert.match(err.message, new RegExp(`^${variable}: `));
          assert.match(err.message, expected);
          return true;
        },
      );
    });
  }
});
