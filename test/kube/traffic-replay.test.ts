/**
 * TrafficReplay: the spec checks (each naming the field the way kubectl shows it), the defaults,
 * toReplayInput, the admission handlers' answers, the controller's status mapping, and the
 * operator's configuration errors. The lookups here are plain functions answering from a set
 * (a double for the store and the API server, which test/kube/operator.test.ts uses for real).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ReplayInput } from '../../src/config/replay.js';
import {
  validateTrafficReplay,
  mutateTrafficReplay,
  type AdmissionContext,
  type AdmissionRequest,
} from '../../src/kube/webhooks/admission.js';
import { statusFor } from '../../src/kube/controller/status.js';
import { DEFAULT_INJECT_OPTIONS } from '../../src/kube/webhooks/capture-config.js';
import {
  checkSpec,
  defaultsPatch,
  toReplayInput,
  type TrafficReplay,
} from '../../src/kube/api/traffic-replay.js';
import { parseWebhookConfig } from '../../src/kube/webhooks/config.js';

const cr = (
  spec: Record<string, unknown>,
  extra: Partial<TrafficReplay['metadata']> = {},
): TrafficReplay => ({
  apiVersion: 'replay.reprise.dev/v1alpha1',
  kind: 'TrafficReplay',
  metadata: {
    name: 'nightly',
    namespace: 'shop',
    uid: '0b6f1f52-7d0e-4d59-9a3e-5a0f1f0c2b11',
    generation: 1,
    ...extra,
  },
  spec: spec as TrafficReplay['spec'],
});

const good = { snapshotId: 'snap-1', workloads: [{ ref: { name: 'orders' } }] };

describe('TrafficReplay spec checks', () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['a missing snapshotId', { workloads: good.workloads }, /^spec\.snapshotId: /],
    ['an unparseable timeout', { ...good, timeout: 'soon' }, /^spec\.timeout: expected a duration/],
    [
      'an unparseable load duration',
      { ...good, load: { duration: '5 minutes' } },
      /^spec\.load\.duration: expected a duration/,
    ],
    [
      'a bad workload name',
      { snapshotId: 's', workloads: [{ ref: { name: 'Orders_1' } }] },
      /^spec\.workloads\[0\]\.ref\.name: expected a Kubernetes name/,
    ],
    [
      'a workload with neither ref nor URL',
      { snapshotId: 's', workloads: [{}] },
      /^spec\.workloads\[0\]\.ref: give ref/,
    ],
    [
      'no workload outside responder-only',
      { snapshotId: 's' },
      /^spec\.workloads: a workload .* is required unless mode is responder-only/,
    ],
    [
      'mocks in generator-only',
      { ...good, mode: 'generator-only', workloads: [{ ref: { name: 'o' }, mocks: ['*'] }] },
      /^spec\.workloads\[0\]\.mocks: generator-only mode starts no responder/,
    ],
    [
      'no mocks in full-replay',
      { ...good, workloads: [{ ref: { name: 'o' }, mocks: [] }] },
      /^spec\.workloads\[0\]\.mocks: full-replay needs the responder/,
    ],
    [
      'rate and speed together',
      { ...good, load: { rate: 10, speed: '2x' } },
      /^spec\.load\.speed: rate and speed are exclusive/,
    ],
    ['an unknown field', { ...good, colour: 'red' }, /^spec: .*colour/],
    ['zero generator replicas', { ...good, generator: { replicas: 0 } }, /^spec\.generator\.replicas: .*>=1/],
    [
      'a bad customURL',
      { snapshotId: 's', workloads: [{ customURL: 'ftp://x' }] },
      /^spec\.workloads\[0\]\.customURL: expected an http/,
    ],
  ];
  for (const [what, spec, expected] of cases) {
    it(`refuses ${what}, naming the field`, () => {
      const problems = checkSpec(spec);
      assert.equal(problems.length, 1, JSON.stringify(problems));
      assert.match(problems[0], expected);
    });
  }

  it('accepts a good spec, a URL-only one, and a workload-less responder-only one', () => {
    assert.deepEqual(checkSpec(good), []);
    assert.deepEqual(
      checkSpec({ snapshotId: 's', workloads: [{ customURL: 'http://orders.shop:8080' }] }),
      [],
    );
    assert.deepEqual(checkSpec({ snapshotId: 's', mode: 'responder-only', responderDuration: '10m' }), []);
  });
});

describe('toReplayInput', () => {
  it('builds a valid workflow input: replayId from name+uid, workload from the ref, tests as include', () => {
    const input = ReplayInput.parse(
      toReplayInput(
        cr({
          snapshotId: 'snap-1',
          mode: 'full-replay',
          timeout: '10m',
          workloads: [
            {
              ref: { name: 'orders', kind: 'StatefulSet' },
              customURL: 'http://orders.shop:8080',
              tests: ['/api/*'],
            },
          ],
          load: { rate: 50 },
          generator: { replicas: 3 },
          goals: { successRate: 99 },
        }),
      ),
    );
    assert.equal(input.load.replicas, 3);
    assert.equal(input.replayId, 'nightly-0b6f1f52-7d0e-4d59-9a3e-5a0f1f0c2b11');
    assert.equal(input.target.url, 'http://orders.shop:8080');
    assert.deepEqual(input.target.workload, {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      name: 'orders',
      namespace: 'shop',
    });
    assert.deepEqual(input.load.include, ['/api/*']);
    assert.equal(input.load.rate, 50);
    assert.equal(input.timeout, '10m');
    assert.equal(input.goals.successRate, 99);
    const routed = (routing: string) =>
      ReplayInput.parse(toReplayInput(cr({ snapshotId: 's', workloads: [{ ref: { name: 'o' }, routing }] })))
        .target.workload?.routing;
    assert.equal(routed('env'), 'proxy', 'env: the proxy variables in the workload');
    assert.equal(routed('hostalias'), 'hostalias');
  });
});

describe('TrafficReplay admission', () => {
  const found = new Set(['shop/Deployment/orders']);
  const ctx = (snapshots: string[] | undefined): AdmissionContext => ({
    inject: { ...DEFAULT_INJECT_OPTIONS, image: 'x' },
    lookups: {
      snapshotExists: snapshots ? async (id) => snapshots.includes(id) : undefined,
      workloadExists: async (r) => (found.has(`${r.namespace}/${r.kind}/${r.name}`) ? 'found' : 'missing'),
    },
  });
  const request = (
    spec: Record<string, unknown>,
    operation: 'CREATE' | 'UPDATE' = 'CREATE',
    old?: TrafficReplay,
  ): AdmissionRequest => ({
    uid: 'req-1',
    kind: { group: 'replay.reprise.dev', version: 'v1alpha1', kind: 'TrafficReplay' },
    namespace: 'shop',
    operation,
    object: cr(spec) as unknown as Record<string, unknown>,
    oldObject: old as unknown as Record<string, unknown>,
  });

  it('fills the defaults with a JSONPatch', () => {
    const res = mutateTrafficReplay(request(good));
    assert.equal(res.allowed, true);
    const patch = JSON.parse(Buffer.from(res.patch!, 'base64').toString()) as {
      path: string;
      value: unknown;
    }[];
    assert.deepEqual(Object.fromEntries(patch.map((p) => [p.path, p.value])), {
      '/spec/mode': 'full-replay',
      '/spec/cleanup': 'inventory',
      '/spec/timeout': '30m',
      '/spec/workloads/0/ref/apiVersion': 'apps/v1',
      '/spec/workloads/0/ref/kind': 'Deployment',
      '/spec/workloads/0/ref/namespace': 'shop',
      '/spec/workloads/0/routing': 'env',
    });
    assert.deepEqual(
      defaultsPatch({ snapshotId: 's', mode: 'generator-only', cleanup: 'none', timeout: '1m' }, 'x'),
      [],
    );
  });

  it('refuses a snapshot the store does not have and a workload the API server does not have', async () => {
    const res = await validateTrafficReplay(
      request({ snapshotId: 'snap-x', workloads: [{ ref: { name: 'ghost' } }] }),
      ctx(['snap-1']),
    );
    assert.equal(res.allowed, false);
    assert.match(res.status!.message, /spec\.snapshotId: snapshot "snap-x" not found in the store/);
    assert.match(res.status!.message, /spec\.workloads\[0\]\.ref\.name: Deployment shop\/ghost not found/);
  });

  it('admits a good one; without a store it warns that the snapshot was not checked', async () => {
    assert.deepEqual(await validateTrafficReplay(request(good), ctx(['snap-1'])), {
      uid: 'req-1',
      allowed: true,
    });
    const res = await validateTrafficReplay(request(good), ctx(undefined));
    assert.equal(res.allowed, true);
    assert.match(res.warnings![0], /spec\.snapshotId: not checked/);
  });

  it('lets metadata-only updates through and refuses spec changes once started', async () => {
    const started = cr(good);
    started.status = { workflowId: started.metadata.uid };
    // The workload is gone, yet removing a finalizer must not be refused.
    const gone = { snapshotId: 'snap-1', workloads: [{ ref: { name: 'ghost' } }] };
    const startedGone = { ...started, spec: gone };
    assert.equal(
      (await validateTrafficReplay(request(gone, 'UPDATE', startedGone), ctx(['snap-1']))).allowed,
      true,
    );
    const changed = await validateTrafficReplay(
      request({ ...good, timeout: '5m' }, 'UPDATE', started),
      ctx(['snap-1']),
    );
    assert.equal(changed.allowed, false);
    assert.match(changed.status!.message, /^spec: cannot change once the replay started/);
  });
});

describe('controller status', () => {
  const now = '2026-01-01T00:00:00.000Z';
  it('maps running phases and verdicts to phase, conditions and times', () => {
    const r = cr(good);
    r.status = statusFor(r, { phase: 'Initializing' }, now);
    assert.equal(r.status.active, true);
    assert.deepEqual(
      r.status.conditions?.map((c) => [c.type, c.status, c.reason]),
      [
        ['MocksReady', 'Unknown', 'Starting'],
        ['Ready', 'False', 'InProgress'],
      ],
    );
    r.status = statusFor(
      r,
      { phase: 'Testing', progress: { sent: 5, done: 4, errors: 0 } },
      '2026-01-01T00:00:05.000Z',
    );
    assert.equal(r.status.initializedTime, '2026-01-01T00:00:05.000Z');
    assert.deepEqual(r.status.progress, { sent: 5, done: 4, errors: 0 });
    r.status = statusFor(
      r,
      { phase: 'Passed', result: { verdict: 'Passed', reportPath: '/r/report.json', replayId: 'x' } },
      '2026-01-01T00:01:00.000Z',
    );
    assert.equal(r.status.verdict, 'Passed');
    assert.equal(r.status.active, false);
    assert.equal(r.status.reportPath, '/r/report.json');
    const ready = r.status.conditions?.find((c) => c.type === 'Ready');
    assert.deepEqual(
      [ready?.status, ready?.reason, ready?.lastTransitionTime],
      ['True', 'TestSucceeded', '2026-01-01T00:01:00.000Z'],
    );
    const failed = statusFor(cr(good), { phase: 'Missed Goals' }, now).conditions?.find(
      (c) => c.type === 'Ready',
    );
    assert.deepEqual([failed?.status, failed?.reason], ['False', 'TestFailed']);
  });
});

describe('operator configuration', () => {
  const env = { REPRISE_IMAGE: 'reprise:1', TEMPORAL_ADDRESS: '127.0.0.1:7233', INSPECTOR_TOKEN: 't' };
  it('reads flags over env over defaults', () => {
    const cfg = parseWebhookConfig(['--port', '9555'], {
      ...env,
      WEBHOOK_PORT: '1',
      TLS_DIR: '/certs',
      REPRISE_FORWARDER_URL: 'http://fwd:8888/',
    });
    assert.equal(cfg.port, 9555);
    assert.equal(cfg.tlsDir, '/certs');
    assert.equal(cfg.healthPort, 8081);
    assert.equal(cfg.inject.forwarderUrl, 'http://fwd:8888');
    assert.deepEqual(cfg.inject.resources, { cpuRequest: '10m', memoryRequest: '32Mi' });
    assert.equal(cfg.inspector.enabled && cfg.inspector.port, 8080);
    const ports = parseWebhookConfig([], {
      ...env,
      REPRISE_SIDECAR_IN_PORT: '5143',
      REPRISE_SIDECAR_OUT_PORT: '5140',
    });
    assert.deepEqual([ports.inject.inPort, ports.inject.outPort, ports.inject.adminPort], [5143, 5140, 4144]);
  });
  it('elects a leader only when asked, named by the pod', () => {
    assert.equal(parseWebhookConfig([], env).controller.leader, undefined);
    const cfg = parseWebhookConfig(['--leader-elect'], {
      ...env,
      POD_NAME: 'op-1',
      POD_NAMESPACE: 'reprise',
    });
    assert.deepEqual(cfg.controller.leader, {
      namespace: 'reprise',
      identity: 'op-1',
      leaseDurationMs: 15_000,
    });
  });
  for (const [argv, extra, expected] of [
    [[], { REPRISE_IMAGE: '' }, /^REPRISE_IMAGE: required/],
    [[], { TEMPORAL_ADDRESS: '' }, /^TEMPORAL_ADDRESS: required by the controller/],
    [['--no-controller'], { INSPECTOR_TOKEN: '' }, /^INSPECTOR_TOKEN: required by the inspector/],
    [['--port', 'x'], {}, /^--port: expected a port/],
    [[], { WEBHOOK_PORT: '70000' }, /^WEBHOOK_PORT: expected a port/],
    [[], { REPRISE_FORWARDER_URL: 'fwd:8888' }, /^REPRISE_FORWARDER_URL: expected an http/],
    [[], { REPRISE_SIDECAR_MEMORY_LIMIT: 'big' }, /^REPRISE_SIDECAR_MEMORY_LIMIT: expected a quantity/],
    [['--bogus'], {}, /bogus/],
    [['--leader-elect', '--lease-duration', 'soon'], {}, /^--lease-duration: expected a duration/],
  ] as const) {
    it(`refuses ${JSON.stringify(argv)} ${JSON.stringify(extra)} naming it`, () => {
      assert.throws(() => parseWebhookConfig([...argv], { ...env, ...extra }), { message: expected });
    });
  }
});
