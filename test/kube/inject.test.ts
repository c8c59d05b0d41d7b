/** Sidecar injection as a pure function: what is added, what is removed, and what is refused. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Container, V1EnvVar } from '@kubernetes/client-node';
import { CAPTURE, INIT_CONTAINER, SIDECAR_CONTAINER } from '../../src/kube/api/annotations.js';
import type { JsonPatchOp } from '../../src/kube/api/json-patch.js';
import { DEFAULT_INJECT_OPTIONS, type InjectOptions } from '../../src/kube/webhooks/capture-config.js';
import {
  mutateWorkload,
  readInjectedRecord,
  type PodTemplate,
  type WorkloadAdmission,
} from '../../src/kube/webhooks/inject.js';
import { CA_CERT_PATH } from '../../src/kube/webhooks/sidecar-container.js';

const opts: InjectOptions = {
  ...DEFAULT_INJECT_OPTIONS,
  image: 'reprise:test',
  forwarderUrl: 'http://reprise-forwarder.reprise:8888',
};

/** A minimal RFC 6902 applier (add/remove/replace), enough to check the patches' effect. */
function applyPatch<T>(doc: T, ops: JsonPatchOp[]): T {
  const out = JSON.parse(JSON.stringify(doc)) as Record<string, unknown>;
  for (const op of ops) {
    const parts = op.path
      .split('/')
      .slice(1)
      .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = parts.pop()!;
    let parent: Record<string, unknown> = out;
    for (const p of parts) parent = parent[p] as Record<string, unknown>;
    assert.ok(parent && typeof parent === 'object', `patch path ${op.path} has no parent`);
    if (op.op === 'remove') {
      assert.ok(last in parent, `remove of missing ${op.path}`);
      delete parent[last];
    } else parent[last] = JSON.parse(JSON.stringify(op.value));
  }
  return out as T;
}

function deployment(annotations: Record<string, string>, spec: Partial<PodTemplate['spec']> = {}) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'orders', namespace: 'shop' },
    spec: {
      replicas: 1,
      template: {
        metadata: { labels: { app: 'orders' }, annotations },
        spec: {
          containers: [
            {
              name: 'app',
              image: 'orders:1',
              ports: [{ containerPort: 8080, protocol: 'TCP' }],
              env: [{ name: 'LOG_LEVEL', value: 'debug' }],
            },
          ],
          ...spec,
        },
      },
    },
  };
}
type Deployment = ReturnType<typeof deployment>;

const admit = (object: unknown, operation: 'CREATE' | 'UPDATE' = 'CREATE', kind = 'Deployment') =>
  mutateWorkload({ kind, operation, object } as WorkloadAdmission, opts);

const containers = (d: Deployment) => d.spec.template.spec.containers as V1Container[];
const sidecar = (d: Deployment) => containers(d).find((c) => c.name === SIDECAR_CONTAINER)!;
const flag = (c: V1Container, name: string) => {
  const args = c.args ?? [];
  const i = args.indexOf(name);
  return i < 0 ? undefined : args[i + 1];
};

/** inject set to "false" (how a capture stops) gives back the original template exactly. */
function assertRemovalRestores(original: Deployment, injected: Deployment): void {
  const stopping = JSON.parse(JSON.stringify(injected)) as Deployment;
  stopping.spec.template.metadata.annotations[CAPTURE.inject] = 'false';
  const restored = applyPatch(stopping, admit(stopping, 'UPDATE').patch);
  const expected = JSON.parse(JSON.stringify(original)) as Deployment;
  expected.spec.template.metadata.annotations[CAPTURE.inject] = 'false';
  assert.deepEqual(restored, expected);
}

describe('sidecar injection', () => {
  it('adds the sidecar with flags from the annotations, the proxy env and the record (dual by default)', () => {
    const before = deployment({ [CAPTURE.inject]: 'true', [CAPTURE.ignorePaths]: '/healthz,/ping' });
    const res = admit(before);
    assert.equal(res.action, 'inject');
    assert.deepEqual(res.warnings, []);
    const after = applyPatch(before, res.patch);
    const s = sidecar(after);
    assert.equal(s.image, 'reprise:test');
    assert.deepEqual(s.command, ['node']);
    assert.equal(s.args?.[0], 'dist/workers/sidecar.js');
    assert.equal(flag(s, '--app-port'), '8080');
    assert.equal(flag(s, '--in-port'), '4143');
    assert.equal(flag(s, '--out-port'), '4140');
    assert.equal(flag(s, '--service'), 'orders');
    assert.equal(flag(s, '--forwarder'), 'http://reprise-forwarder.reprise:8888');
    assert.ok(s.args?.includes('--ignore-paths=/healthz,/ping'));
    assert.ok(!s.args?.includes('--tls-intercept'));
    assert.deepEqual(s.resources, { requests: { cpu: '10m', memory: '32Mi' } });
    assert.deepEqual(s.readinessProbe?.httpGet, { path: '/healthz', port: 4144, scheme: 'HTTP' });
    const app = containers(after)[0];
    const env = Object.fromEntries((app.env ?? []).map((e) => [e.name, e.value]));
    assert.equal(env.HTTP_PROXY, 'http://127.0.0.1:4140');
    assert.equal(env.HTTPS_PROXY, 'http://127.0.0.1:4140');
    assert.match(env.NO_PROXY!, /127\.0\.0\.1/);
    assert.equal(env.LOG_LEVEL, 'debug', 'the app env is kept');
    const record = readInjectedRecord(after.spec.template);
    assert.ok(record);
    assert.deepEqual(record.containers, [SIDECAR_CONTAINER]);
  });

  it('injecting the result again changes nothing', () => {
    const once = applyPatch(
      deployment({ [CAPTURE.inject]: 'true' }),
      admit(deployment({ [CAPTURE.inject]: 'true' })).patch,
    );
    const again = admit(once, 'UPDATE');
    assert.equal(again.action, 'none');
    assert.deepEqual(again.patch, []);
    // A pod made from the injected template is left alone too.
    const pod = {
      metadata: { ...once.spec.template.metadata, generateName: 'orders-5d9-' },
      spec: once.spec.template.spec,
    };
    assert.equal(admit(pod, 'CREATE', 'Pod').action, 'none');
  });

  it('removes exactly what it injected when inject is no longer "true", restoring replaced env', () => {
    const original = deployment(
      { [CAPTURE.inject]: 'true', [CAPTURE.tlsOut]: 'true', [CAPTURE.proxyType]: 'transparent' },
      { initContainers: [{ name: 'migrate', image: 'm:1' }] },
    );
    original.spec.template.spec.containers[0].env!.push({
      name: 'HTTP_PROXY',
      value: 'http://corp-proxy:3128',
    });
    const injected = applyPatch(original, admit(original).patch);
    const init = injected.spec.template.spec as { initContainers: V1Container[]; volumes: unknown[] };
    assert.deepEqual(
      init.initContainers.map((c) => c.name),
      [INIT_CONTAINER, 'migrate'],
    );
    assert.deepEqual(init.initContainers[0].securityContext?.capabilities?.add, ['NET_ADMIN', 'NET_RAW']);
    const app = containers(injected)[0];
    assert.equal(app.env?.find((e) => e.name === 'HTTP_PROXY')?.value, 'http://127.0.0.1:4140');
    assert.equal(app.env?.find((e) => e.name === 'NODE_EXTRA_CA_CERTS')?.value, CA_CERT_PATH);
    assert.equal(app.volumeMounts?.[0].subPath, 'ca.pem');
    assert.ok(sidecar(injected).args?.includes('--tls-intercept'));

    // The capture workflow stops capture by setting the annotation to anything but "true".
    const stopping = JSON.parse(JSON.stringify(injected)) as Deployment;
    stopping.spec.template.metadata.annotations[CAPTURE.inject] = 'false';
    const res = admit(stopping, 'UPDATE');
    assert.equal(res.action, 'remove');
    const restored = applyPatch(stopping, res.patch);
    const expected = JSON.parse(JSON.stringify(original)) as Deployment;
    expected.spec.template.metadata.annotations[CAPTURE.inject] = 'false';
    assert.deepEqual(restored, expected);
  });

  it('upstream-ca mounts the ConfigMap into the sidecar only, as NODE_EXTRA_CA_CERTS; removal takes it away', () => {
    const original = deployment({
      [CAPTURE.inject]: 'true',
      [CAPTURE.tlsOut]: 'true',
      [CAPTURE.upstreamCa]: 'payments-ca',
    });
    const injected = applyPatch(original, admit(original).patch);
    const volumes = (injected.spec.template.spec as { volumes: { name: string; configMap?: unknown }[] })
      .volumes;
    assert.deepEqual(volumes.find((v) => v.name === 'reprise-upstream-ca')?.configMap, {
      name: 'payments-ca',
      items: [{ key: 'ca.crt', path: 'ca.crt' }],
    });
    assert.deepEqual(sidecar(injected).env, [
      { name: 'NODE_EXTRA_CA_CERTS', value: '/etc/reprise/upstream-ca/ca.crt' },
    ]);
    assert.deepEqual(
      sidecar(injected).volumeMounts?.map((m) => m.mountPath),
      ['/etc/reprise/ca', '/etc/reprise/upstream-ca'],
    );
    // The app's NODE_EXTRA_CA_CERTS stays the Reprise CA (it talks to the sidecar, not to payments).
    assert.equal(
      containers(injected)[0].env?.find((e) => e.name === 'NODE_EXTRA_CA_CERTS')?.value,
      CA_CERT_PATH,
    );
    assertRemovalRestores(original, injected);
  });

  it('removes the annotations map and fields it created, so the template equals the original', () => {
    const original = deployment({});
    delete (original.spec.template.metadata as { annotations?: unknown }).annotations;
    const withInject = {
      ...original,
      metadata: { ...original.metadata, annotations: { [CAPTURE.inject]: 'true' } },
    };
    const injected = applyPatch(withInject, admit(withInject).patch);
    assert.ok(readInjectedRecord(injected.spec.template), 'the workload annotation is enough');
    const off = { ...injected, metadata: { ...injected.metadata, annotations: {} } };
    const restored = applyPatch(off, admit(off, 'UPDATE').patch);
    assert.deepEqual(restored.spec.template, original.spec.template);
  });

  it('re-injects when the capture annotations change', () => {
    const first = applyPatch(
      deployment({ [CAPTURE.inject]: 'true' }),
      admit(deployment({ [CAPTURE.inject]: 'true' })).patch,
    );
    first.spec.template.metadata.annotations[CAPTURE.inPort] = '5000';
    first.spec.template.metadata.annotations[CAPTURE.proxyType] = 'reverse';
    const res = admit(first, 'UPDATE');
    assert.equal(res.action, 'reinject');
    const after = applyPatch(first, res.patch);
    assert.equal(containers(after).filter((c) => c.name === SIDECAR_CONTAINER).length, 1);
    assert.equal(flag(sidecar(after), '--in-port'), '5000');
    assert.equal(flag(sidecar(after), '--out-port'), '-1');
    assert.equal(
      containers(after)[0].env?.some((e) => e.name === 'HTTP_PROXY'),
      false,
      'reverse mode sets no proxy env',
    );
  });

  for (const [key, value, expected] of [
    [
      CAPTURE.proxyType,
      'sideways',
      /capture\.reprise\.dev\/proxy-type: expected one of reverse, forward, dual, transparent/,
    ],
    [CAPTURE.inPort, 'abc', /capture\.reprise\.dev\/in-port: expected an integer 1-65535, got "abc"/],
    [CAPTURE.cpuRequest, 'lots', /capture\.reprise\.dev\/cpu-request: expected a quantity/],
    [CAPTURE.container, 'nope', /capture\.reprise\.dev\/container: no container "nope"/],
    [CAPTURE.tlsOut, 'yes', /capture\.reprise\.dev\/tls-out: expected "true" or "false"/],
    [CAPTURE.java, 'maybe', /capture\.reprise\.dev\/java: expected "true" or "false", got "maybe"/],
    [
      CAPTURE.upstreamCa,
      'Payments CA',
      /capture\.reprise\.dev\/upstream-ca: expected the name of a ConfigMap in the workload's namespace, got "Payments CA"/,
    ],
  ] as const) {
    it(`a bad ${key} admits the workload unchanged with a warning`, () => {
      const res = admit(deployment({ [CAPTURE.inject]: 'true', [key]: value }));
      assert.equal(res.action, 'none');
      assert.deepEqual(res.patch, []);
      assert.equal(res.warnings.length, 1);
      assert.match(res.warnings[0], expected);
    });
  }

  it('needs an app port for inbound capture, but not in forward mode', () => {
    const noPorts = deployment({ [CAPTURE.inject]: 'true' });
    delete (noPorts.spec.template.spec.containers[0] as { ports?: unknown }).ports;
    assert.match(admit(noPorts).warnings[0], /capture\.reprise\.dev\/app-port: required/);
    noPorts.spec.template.metadata.annotations[CAPTURE.proxyType] = 'forward';
    const res = admit(noPorts);
    assert.equal(res.action, 'inject');
    const s = sidecar(applyPatch(noPorts, res.patch));
    assert.equal(flag(s, '--in-port'), '-1');
    assert.equal(flag(s, '--app-port'), undefined);
  });

  it('injects into a bare pod on CREATE, and never patches a pod on UPDATE', () => {
    const pod = {
      metadata: { name: 'one', annotations: { [CAPTURE.inject]: 'true' } },
      spec: { containers: [{ name: 'app', image: 'x', ports: [{ containerPort: 3000 }] }] },
    };
    const res = admit(pod, 'CREATE', 'Pod');
    assert.equal(res.action, 'inject');
    assert.ok(res.patch.every((op) => op.path.startsWith('/metadata') || op.path.startsWith('/spec/')));
    const injected = applyPatch(pod, res.patch);
    injected.metadata.annotations[CAPTURE.inject] = 'false';
    assert.equal(admit(injected, 'UPDATE', 'Pod').action, 'none');
  });

  it('leaves other kinds and operations alone', () => {
    assert.equal(admit(deployment({ [CAPTURE.inject]: 'true' }), 'CREATE', 'ReplicaSet').action, 'none');
    assert.equal(
      mutateWorkload(
        {
          kind: 'Deployment',
          operation: 'DELETE',
          object: deployment({ [CAPTURE.inject]: 'true' }),
        } as WorkloadAdmission,
        opts,
      ).action,
      'none',
    );
  });

  it('ports default to the operator configuration, annotations override', () => {
    const d = deployment({ [CAPTURE.inject]: 'true', [CAPTURE.outPort]: '6140' });
    const res = mutateWorkload({ kind: 'Deployment', operation: 'CREATE', object: d } as WorkloadAdmission, {
      ...opts,
      inPort: 5143,
    });
    const s = sidecar(applyPatch(d, res.patch));
    assert.deepEqual([flag(s, '--in-port'), flag(s, '--out-port')], ['5143', '6140']);
  });

  it('resources come from the annotations over the operator defaults', () => {
    const d = deployment({
      [CAPTURE.inject]: 'true',
      [CAPTURE.memoryLimit]: '128Mi',
      [CAPTURE.cpuRequest]: '50m',
    });
    const s = sidecar(applyPatch(d, admit(d).patch));
    assert.deepEqual(s.resources, { requests: { cpu: '50m', memory: '32Mi' }, limits: { memory: '128Mi' } });
  });
});

describe('JVM apps (JAVA_TOOL_OPTIONS)', () => {
  const jvm = (annotations: Record<string, string>, own?: V1EnvVar) => {
    const d = deployment({ [CAPTURE.inject]: 'true', ...annotations });
    const app = d.spec.template.spec.containers[0] as V1Container;
    app.command = ['java', '-jar', '/app/orders.jar'];
    if (own) app.env!.unshift(own);
    return d;
  };
  const javaOptions = (d: Deployment) => containers(d)[0].env?.find((e) => e.name === 'JAVA_TOOL_OPTIONS');

  it('a java container gets the proxy and the truststore after its own options; removal restores them exactly', () => {
    const original = jvm(
      { [CAPTURE.tlsOut]: 'true' },
      { name: 'JAVA_TOOL_OPTIONS', value: '-Xmx256m -Dfoo=1' },
    );
    const injected = applyPatch(original, admit(original).patch);
    assert.equal(
      javaOptions(injected)?.value,
      '-Xmx256m -Dfoo=1 -Dreprise.jvm=capture -Dhttp.proxyHost=127.0.0.1 -Dhttp.proxyPort=4140 ' +
        '-Dhttps.proxyHost=127.0.0.1 -Dhttps.proxyPort=4140 ' +
        '-Dhttp.nonProxyHosts=localhost|127.0.0.1|[::1]|kubernetes.default.svc ' +
        '-Djavax.net.ssl.trustStore=/etc/reprise/ca/truststore.jks -Djavax.net.ssl.trustStoreType=JKS ' +
        '-Djavax.net.ssl.trustStorePassword=changeit',
    );
    assert.equal(containers(injected)[0].env?.[0].name, 'JAVA_TOOL_OPTIONS', 'kept in its place');
    assert.deepEqual(
      containers(injected)[0].volumeMounts?.map((m) => [m.mountPath, m.subPath]),
      [
        [CA_CERT_PATH, 'ca.pem'],
        ['/etc/reprise/ca/truststore.jks', 'truststore.jks'],
      ],
    );
    assertRemovalRestores(original, injected);
  });

  it('without tls-out a JVM gets the proxy only, and a variable it did not have is removed again', () => {
    const original = jvm({});
    const injected = applyPatch(original, admit(original).patch);
    const value = javaOptions(injected)?.value ?? '';
    assert.match(value, /^-Dreprise\.jvm=capture -Dhttp\.proxyHost=127\.0\.0\.1 /);
    assert.doesNotMatch(value, /trustStore/);
    const off = JSON.parse(JSON.stringify(injected)) as Deployment;
    off.spec.template.metadata.annotations[CAPTURE.inject] = 'false';
    const restored = applyPatch(off, admit(off, 'UPDATE').patch);
    assert.equal(javaOptions(restored), undefined);
    assert.deepEqual(restored.spec.template.spec, original.spec.template.spec);
  });

  it('the annotation decides over detection, and changing it re-injects', () => {
    const node = deployment({ [CAPTURE.inject]: 'true' });
    assert.equal(javaOptions(applyPatch(node, admit(node).patch)), undefined, 'not a JVM: no options');
    const forced = deployment({ [CAPTURE.inject]: 'true', [CAPTURE.java]: 'true' });
    const injected = applyPatch(forced, admit(forced).patch);
    assert.ok(javaOptions(injected), 'java: "true" gives options to any container');
    injected.spec.template.metadata.annotations[CAPTURE.java] = 'false';
    const res = admit(injected, 'UPDATE');
    assert.equal(res.action, 'reinject');
    assert.equal(javaOptions(applyPatch(injected, res.patch)), undefined);
    const off = jvm({ [CAPTURE.java]: 'false' });
    assert.equal(javaOptions(applyPatch(off, admit(off).patch)), undefined, 'java: "false" beats detection');
  });

  it('options from valueFrom are left alone, with a warning: the sidecar is still injected', () => {
    const ref = { name: 'JAVA_TOOL_OPTIONS', valueFrom: { configMapKeyRef: { name: 'jvm', key: 'opts' } } };
    const d = jvm({}, ref);
    const res = admit(d);
    assert.equal(res.action, 'inject');
    assert.match(
      res.warnings[0] ?? '',
      /capture\.reprise\.dev\/java: container "app" takes JAVA_TOOL_OPTIONS from valueFrom/,
    );
    assert.deepEqual(javaOptions(applyPatch(d, res.patch)), ref);
  });
});
