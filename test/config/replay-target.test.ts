/** replayWorkflow's target: a URL, a local app, or a cluster workload, each checked by field. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ReplayInput } from '../../src/config/replay.js';
import { describeZodIssues } from '../../src/base/issues.js';

function problems(input: unknown): string {
  const r = ReplayInput.safeParse(input);
  assert.equal(r.success, false, 'expected the input to be refused');
  return describeZodIssues(r.error!.issues);
}

describe('ReplayInput target', () => {
  it('accepts a workload without a URL and fills in its defaults', () => {
    const r = ReplayInput.parse({ snapshotId: 's1', target: { workload: { name: 'orders' } } });
    assert.deepEqual(r.target.workload, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: 'orders',
      namespace: 'default',
    });
    assert.equal(r.target.url, undefined);
  });

  it('still needs a URL when there is neither a workload nor responder-only mode', () => {
    assert.match(
      problems({ snapshotId: 's1', target: {} }),
      /target\.url: required unless mode is responder-only/,
    );
    assert.doesNotThrow(() => ReplayInput.parse({ snapshotId: 's1', target: {}, mode: 'responder-only' }));
  });

  it('refuses a local app together with a workload, naming target.workload', () => {
    const text = problems({
      snapshotId: 's1',
      target: { url: 'http://127.0.0.1:1', app: { command: 'node x.js' }, workload: { name: 'orders' } },
    });
    assert.match(text, /target\.workload: app and workload are exclusive/);
  });

  it('names a bad workload field and an unknown one', () => {
    assert.match(
      problems({ snapshotId: 's1', target: { workload: { name: 'Orders_1' } } }),
      /target\.workload\.name: expected a Kubernetes name/,
    );
    assert.match(
      problems({ snapshotId: 's1', target: { workload: { name: 'orders', kind: 'Job' } } }),
      /target\.workload\.kind/,
    );
    assert.match(
      problems({ snapshotId: 's1', target: { workload: { name: 'orders', replicas: 2 } } }),
      /replicas/,
    );
  });
});
