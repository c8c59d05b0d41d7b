/**
 * The TrafficReplay CRD is generated from the zod schemas (tools/crd/): the committed file is
 * what the generator writes, the real API server accepts it as a structural schema, stores
 * every field the zod schema knows without pruning one (a field missing from the CRD would be
 * dropped silently), and refuses what the schema can say is wrong, naming the field. No
 * webhook is registered here: this is the CRD on its own (test/kube/operator.test.ts has both).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { stringify as toYaml } from 'yaml';
import { statusFor } from '../../src/kube/controller/status.js';
import { checkSpec, TrafficReplayStatus, type TrafficReplay } from '../../src/kube/api/traffic-replay.js';
import { startDevCluster, type DevCluster } from '../../tools/dev-cluster/index.js';
import { untypedPaths, type JsonSchema } from '../../tools/crd/structural.js';
import { CRD_FILE, renderTrafficReplayCrd, trafficReplayCrd } from '../../tools/crd/traffic-replay-crd.js';
import { installCrd } from './operator-harness.js';

const replay = (name: string, spec: unknown) => ({
  apiVersion: 'replay.reprise.dev/v1alpha1',
  kind: 'TrafficReplay',
  metadata: { name, namespace: 'default' },
  spec,
});

/** Every field the spec schema has, each transform kind once: what a complete user might write. */
const EVERY_FIELD = {
  snapshotId: 'snap-1',
  mode: 'full-replay',
  cleanup: 'all',
  timeout: '10m',
  ttlAfterReady: '1h',
  workloads: [
    {
      ref: {
        apiVersion: 'apps/v1',
        kind: 'StatefulSet',
        name: 'orders',
        namespace: 'shop',
        container: 'app',
        service: 'orders-http',
        port: 8080,
      },
      tests: ['/api/**'],
      mocks: ['*'],
      routing: 'hostalias',
    },
  ],
  load: { speed: 2, connections: 4, duration: '1m', passes: 2, rampUp: '10s', timeout: '5s' },
  assertions: {
    status: true,
    headers: ['content-type', 'etag'],
    body: { enabled: true, ignore: ['$.at'], autoNoise: false, forceCompare: ['$.id'] },
  },
  goals: { successRate: 99, assertionPassRate: 95, p50Ms: 20, p95Ms: 80, p99Ms: 150, minRps: 10 },
  responder: {
    missPolicy: 'passthrough',
    exhausted: 'cycle',
    latency: { fixedMs: 5 },
    ignore: { query: ['ts'], body: ['$.nonce'] },
  },
  transforms: [
    { type: 'header', name: 'x-debug', value: null },
    { type: 'host', value: 'orders.shop:8080' },
    { type: 'date-shift', in: ['headers', 'body'] },
    { type: 'replace', find: 'tok-1', with: '${env:TOKEN}' },
    { type: 'jwt-resign', key: '${env:JWT_KEY}', algorithm: 'HS512', headers: ['authorization'], ttl: '1h' },
  ],
};

/** Each node of a JSON Schema, with its path. */
function* nodes(node: JsonSchema, at = ''): Generator<[string, JsonSchema]> {
  yield [at, node];
  for (const [k, v] of Object.entries(node.properties ?? {})) yield* nodes(v, `${at}.${k}`);
  if (node.items) yield* nodes(node.items, `${at}[]`);
}

describe('TrafficReplay CRD, generated', () => {
  it('the committed file is what `npm run gen:crd` writes', async () => {
    const committed = readFileSync(CRD_FILE, 'utf8');
    assert.ok(
      committed === (await renderTrafficReplayCrd()),
      `${CRD_FILE} is stale: run \`npm run gen:crd\` and commit the result`,
    );
  });

  it('is structural: a type (or preserve-unknown-fields) everywhere, no $ref, no defaults', () => {
    const schema = trafficReplayCrd().spec.versions[0].schema.openAPIV3Schema as JsonSchema;
    assert.deepEqual(untypedPaths(schema), []);
    for (const [at, node] of nodes(schema)) {
      for (const banned of ['$ref', 'default', 'anyOf', 'oneOf', 'allOf'])
        assert.ok(!(banned in node), `${at}: ${banned}`);
      assert.notEqual(node.additionalProperties, false, `${at}: additionalProperties false`);
    }
  });

  it('keeps the descriptions written on the zod schemas', () => {
    const spec = trafficReplayCrd().spec.versions[0].schema.openAPIV3Schema.properties.spec;
    assert.match(String(spec.properties?.snapshotId.description), /snapshot to replay/);
    assert.match(String(spec.properties?.load.properties?.speed.description), /Exclusive with rate/);
    assert.match(String(spec.properties?.responder.properties?.latency.description), /fixedMs/);
  });

  it('the complete example is a valid spec for the zod schema too', () => {
    assert.deepEqual(checkSpec(EVERY_FIELD), []);
  });
});

describe('TrafficReplay CRD on a real API server', { timeout: 300_000 }, () => {
  let cluster: DevCluster;
  const kubectl = (args: string[], doc?: unknown) =>
    cluster.kubectl(args, doc === undefined ? undefined : { input: toYaml(doc) });

  before(async () => {
    cluster = await startDevCluster();
    await installCrd(cluster);
  });
  after(async () => {
    await cluster?.stop();
  });

  it('is accepted as a structural schema', async () => {
    const res = await kubectl(['get', 'crd', 'trafficreplays.replay.reprise.dev', '-o', 'json']);
    assert.equal(res.code, 0, res.stderr);
    const conditions = (
      JSON.parse(res.stdout) as { status: { conditions: { type: string; status: string }[] } }
    ).status.conditions;
    assert.ok(conditions.some((c) => c.type === 'Established' && c.status === 'True'));
    assert.ok(!conditions.some((c) => c.type === 'NonStructuralSchema'), JSON.stringify(conditions));
  });

  it('stores every field of the zod schema as written: nothing pruned', async () => {
    const res = await kubectl(['create', '-f', '-', '-o', 'json'], replay('complete', EVERY_FIELD));
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual((JSON.parse(res.stdout) as TrafficReplay).spec, EVERY_FIELD);
  });

  it('stores the status the controller writes, through the status subresource, nothing pruned', async () => {
    const created = await kubectl(
      ['create', '-f', '-', '-o', 'json'],
      replay('with-status', { snapshotId: 's', mode: 'generator-only' }),
    );
    assert.equal(created.code, 0, created.stderr);
    const cr = JSON.parse(created.stdout) as TrafficReplay;
    cr.status = statusFor(
      cr,
      { phase: 'Testing', progress: { sent: 3, done: 2, errors: 0, total: 9 } },
      '2026-01-01T00:00:00Z',
    );
    cr.status = statusFor(
      cr,
      {
        phase: 'Missed Goals',
        result: { verdict: 'Missed Goals', reportPath: '/r/report.html', replayId: 'x' },
        message: 'p99',
      },
      '2026-01-01T00:01:00Z',
    );
    // The zod schema the CRD was made from admits what the controller writes.
    assert.ok(TrafficReplayStatus.safeParse(cr.status).success, JSON.stringify(cr.status));
    const patched = await kubectl([
      'patch',
      'trafficreplay',
      'with-status',
      '--subresource=status',
      '--type=merge',
      '-o',
      'json',
      '-p',
      JSON.stringify({ status: cr.status }),
    ]);
    assert.equal(patched.code, 0, patched.stderr);
    assert.deepEqual((JSON.parse(patched.stdout) as TrafficReplay).status, cr.status);
    // The printer columns read what the controller wrote.
    const table = await kubectl(['get', 'replay', 'with-status']);
    assert.match(table.stdout.split('\n')[0], /NAME\s+PHASE\s+MODE\s+VERDICT\s+AGE/);
    assert.match(table.stdout, /with-status\s+Missed Goals\s+generator-only\s+Missed Goals/);
  });

  const refused: [string, unknown, RegExp][] = [
    [
      'a mode it does not have',
      { snapshotId: 's', mode: 'sometimes' },
      /spec\.mode: Unsupported value: "sometimes"/,
    ],
    ['a snapshot id that escapes the store', { snapshotId: '../etc' }, /spec\.snapshotId: Invalid value/],
    ['no snapshot id', { mode: 'full-replay' }, /spec\.snapshotId: Required value/],
    [
      'two workloads',
      { snapshotId: 's', workloads: [{ customURL: 'http://a' }, { customURL: 'http://b' }] },
      /spec\.workloads: Too many/,
    ],
    [
      'a port out of range',
      { snapshotId: 's', workloads: [{ ref: { name: 'a', port: 70000 } }] },
      /spec\.workloads\[0\]\.ref\.port: Invalid value/,
    ],
    [
      'a workload name Kubernetes cannot have',
      { snapshotId: 's', workloads: [{ ref: { name: 'Orders_1' } }] },
      /spec\.workloads\[0\]\.ref\.name: Invalid value/,
    ],
    [
      'a workload kind it cannot patch',
      { snapshotId: 's', workloads: [{ ref: { name: 'a', kind: 'Job' } }] },
      /spec\.workloads\[0\]\.ref\.kind: Unsupported value/,
    ],
    [
      'a goal above 100%',
      { snapshotId: 's', goals: { successRate: 101 } },
      /spec\.goals\.successRate: Invalid value/,
    ],
    [
      'connections as text',
      { snapshotId: 's', load: { connections: 'many' } },
      /spec\.load\.connections: Invalid value/,
    ],
    [
      'a transform kind it does not have',
      { snapshotId: 's', transforms: [{ type: 'rot13' }] },
      /spec\.transforms\[0\]\.type: Unsupported value/,
    ],
    [
      'a misspelt field (kubectl validates strictly)',
      { snapshotId: 's', timout: '5m' },
      /unknown field "spec\.timout"/,
    ],
  ];
  for (const [what, spec, message] of refused) {
    it(`refuses ${what}, naming the field`, async () => {
      const res = await kubectl(['create', '-f', '-'], replay('bad', spec));
      assert.notEqual(res.code, 0, `${what} was stored`);
      assert.match(res.stderr, message);
    });
  }
});
