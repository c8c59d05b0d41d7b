/**
 * JSON patches against a real API server: a `test` compares bytes with the server's own (Go)
 * encoding, so values holding `&&`, `=>` or `<` must be written the way Go writes them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KubeApi, KubeApiError, resourcePath } from '../../src/kube/client/api.js';
import { startDevCluster, type DevCluster } from '../../tools/dev-cluster/index.js';
import { kubeConfigOf } from './runtime-fixtures.js';

// What a pod template's command often holds.
const SCRIPT = 'test -f /ready && node -e "x => x < 2" & echo \u2028done';

describe('JSON patches on a real API server', () => {
  let cluster: DevCluster;
  let api: KubeApi;
  const path = resourcePath('ConfigMap', 'default', 'json-patch');

  before(async () => {
    cluster = await startDevCluster();
    api = new KubeApi(kubeConfigOf(cluster.kubeconfigPath));
    await api.ensure({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'json-patch', namespace: 'default' },
      data: { script: SCRIPT },
    });
  });
  after(async () => {
    await cluster?.stop();
  });

  it('a test over a value with &&, => and < passes when the value is what the server holds', async () => {
    const current = await api.get<{ data: Record<string, string> }>(path);
    assert.equal(current.data.script, SCRIPT);
    await api.jsonPatch(path, [
      { op: 'test', path: '/data', value: current.data },
      { op: 'replace', path: '/data', value: { script: `${SCRIPT} again` } },
    ]);
    const patched = await api.get<{ data: Record<string, string> }>(path);
    assert.equal(patched.data.script, `${SCRIPT} again`);
  });

  it('a test over a value that changed is refused with 422, not an "is invalid" message, and changes nothing', async () => {
    const patch = api.jsonPatch(path, [
      { op: 'test', path: '/data', value: { script: SCRIPT } },
      { op: 'replace', path: '/data', value: { script: 'overwritten' } },
    ]);
    await assert.rejects(patch, (err: unknown) => {
      assert.ok(err instanceof KubeApiError);
      assert.equal(err.status, 422);
      assert.doesNotMatch(err.message, / is invalid: /);
      return true;
    });
    const kept = await api.get<{ data: Record<string, string> }>(path);
    assert.equal(kept.data.script, `${SCRIPT} again`);
  });
});
