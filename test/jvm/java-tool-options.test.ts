/**
 * JAVA_TOOL_OPTIONS: Reprise's block keeps the user's options and comes off exactly; JVMs are
 * recognised from a command or a container; and a real JVM given the block sends its HTTPS
 * through the proxy (loopback included) while the user's own properties stay in force.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isJvmCommand, isJvmContainer } from '../../src/jvm/detect.js';
import {
  JvmOptionsError,
  nonProxyHostsFromNoProxy,
  repriseJvmOptions,
  tokenize,
  withoutRepriseOptions,
  withRepriseOptions,
} from '../../src/jvm/java-tool-options.js';
import { jvmAppEnv, jvmCaptureNotice, trustStoreAt } from '../../src/jvm/local.js';
import { ensureTruststore } from '../../src/jvm/truststore.js';
import { connectProxy, ensureJdk, httpsServerSignedBy, jvmGet } from '../helpers/jvm.js';

const block = repriseJvmOptions({
  purpose: 'capture',
  proxy: { host: '127.0.0.1', port: 4140, nonProxyHosts: [] },
  trustStore: trustStoreAt('/home/me/my project/.reprise/ca/truststore.jks'),
});

test('the block: marker, both proxies, an empty non-proxy list, the truststore (quoted when it has spaces)', () => {
  assert.deepEqual(block, [
    '-Dreprise.jvm=capture',
    '-Dhttp.proxyHost=127.0.0.1',
    '-Dhttp.proxyPort=4140',
    '-Dhttps.proxyHost=127.0.0.1',
    '-Dhttps.proxyPort=4140',
    '-Dhttp.nonProxyHosts=',
    '"-Djavax.net.ssl.trustStore=/home/me/my project/.reprise/ca/truststore.jks"',
    '-Djavax.net.ssl.trustStoreType=JKS',
    '-Djavax.net.ssl.trustStorePassword=changeit',
  ]);
  const hostAliasOnly = repriseJvmOptions({
    purpose: 'replay',
    trustStore: trustStoreAt('/etc/reprise/ca/t.jks'),
  });
  assert.ok(!hostAliasOnly.some((o) => o.includes('proxy')), hostAliasOnly.join(' '));
  assert.deepEqual(
    repriseJvmOptions({
      purpose: 'replay',
      proxy: { host: '::1', port: 80, nonProxyHosts: ['a', 'b'] },
    }).slice(1),
    [
      '-Dhttp.proxyHost=[::1]',
      '-Dhttp.proxyPort=80',
      '-Dhttps.proxyHost=[::1]',
      '-Dhttps.proxyPort=80',
      '-Dhttp.nonProxyHosts=a|b',
    ],
  );
  assert.throws(
    () => repriseJvmOptions({ purpose: 'replay', trustStore: trustStoreAt(`/a b/"x'.jks`) }),
    (err: Error) => err instanceof JvmOptionsError && /javax\.net\.ssl\.trustStore/.test(err.message),
  );
});

test("the user's options stay in front, untouched, and come back exactly when the block is removed", () => {
  const users = [
    undefined,
    '',
    '-Xmx512m',
    '  -Xmx512m\t-Dfoo=bar  ',
    '-Dhttps.proxyHost=corp-proxy -Dhttps.proxyPort=3128',
    `-Dlabel="two words" '-Dother=x y'`,
    '-javaagent:/opt/agent.jar=opt1,opt2 -XX:+UseG1GC',
  ];
  for (const user of users) {
    const combined = withRepriseOptions(user, block);
    assert.ok(combined.endsWith(block.join(' ')), combined);
    if (user) assert.ok(combined.startsWith(user), combined);
    assert.equal(withoutRepriseOptions(combined), user ?? '', `removing from ${JSON.stringify(combined)}`);
    // Applying it again (a shell that exported the capture's line) replaces, never stacks.
    assert.equal(withRepriseOptions(combined, block), combined);
  }
  // Options the user added after an older block are kept; only the block goes.
  const later = `${withRepriseOptions('-Xms64m', block)} -Dafter=1`;
  assert.equal(withoutRepriseOptions(later), '-Xms64m -Dafter=1');
  assert.equal(
    withoutRepriseOptions('-Dhttps.proxyHost=corp -Dreprise.jvmish=1'),
    '-Dhttps.proxyHost=corp -Dreprise.jvmish=1',
  );
});

test('options are split the way the JVM splits them (white space, quotes grouping)', () => {
  assert.deepEqual(
    tokenize(` -Da=1\t"-Db=two words" -Dc='x "y"' `).map((t) => t.value),
    ['-Da=1', '-Db=two words', '-Dc=x "y"'],
  );
});

test('NO_PROXY entries become http.nonProxyHosts patterns', () => {
  assert.deepEqual(
    nonProxyHostsFromNoProxy('localhost, 127.0.0.1,::1,.svc.cluster.local,,kubernetes.default.svc'),
    ['localhost', '127.0.0.1', '[::1]', '*.svc.cluster.local', 'kubernetes.default.svc'],
  );
});

test('a JVM is recognised from its command line or its container spec', () => {
  for (const yes of [
    'java -jar app.jar',
    '/usr/lib/jvm/java-17-openjdk-amd64/bin/java -cp x Main',
    '"$JAVA_HOME/bin/java" -jar svc.jar',
    'cd svc && ./mvnw spring-boot:run',
    'PAYMENTS_URL=https://x java -jar target/orders.jar',
    './gradlew bootRun',
    'exec ./orders-1.0.jar',
  ])
    assert.ok(isJvmCommand(yes), yes);
  for (const no of ['node server.js', 'python -m javalike', './run-java-later.sh', 'jar tf x', 'echo .jar'])
    assert.ok(!isJvmCommand(no), no);
  assert.ok(isJvmContainer({ command: ['java', '-jar', '/app/app.jar'] }));
  assert.ok(isJvmContainer({ image: 'orders:1', args: ['-jar', '/app/orders.jar'] }));
  assert.ok(isJvmContainer({ image: 'orders:1', env: [{ name: 'JAVA_OPTS' }] }));
  assert.ok(isJvmContainer({ image: 'eclipse-temurin:17-jre' }));
  assert.ok(isJvmContainer({ image: 'registry.example.com/base/openjdk17@sha256:abc' }));
  assert.ok(!isJvmContainer({ image: 'node:20-slim', command: ['node', 'server.js'] }));
  assert.ok(!isJvmContainer({ image: 'acme/javascript-app:2' }));
});

let dir: string;
let server: Awaited<ReturnType<typeof httpsServerSignedBy>>;
let proxy: Awaited<ReturnType<typeof connectProxy>>;

before(async () => {
  ensureJdk();
  dir = await mkdtemp(path.join(tmpdir(), 'reprise-jvm-options-'));
  server = await httpsServerSignedBy(path.join(dir, 'ca'), 'through the proxy');
  proxy = await connectProxy();
});

after(async () => {
  await server?.close();
  await proxy?.close();
  await rm(dir, { recursive: true, force: true });
});

test("a real JVM follows the block: HTTPS to localhost goes through the proxy, the user's properties stay", async () => {
  const caDir = path.join(dir, 'ca');
  const { JAVA_TOOL_OPTIONS: options } = await jvmAppEnv({
    command: 'java -jar orders.jar',
    userOptions: '-Ddemo.user=kept -Dhttps.proxyHost=corp-proxy.invalid',
    proxyUrl: `http://127.0.0.1:${proxy.port}`,
    caDir,
  });
  const res = await jvmGet(`https://localhost:${server.port}/x`, options, ['demo.user', 'https.proxyHost']);
  assert.equal(res.status, 200, res.error);
  assert.equal(res.body, 'through the proxy');
  assert.deepEqual(proxy.targets, [`localhost:${server.port}`]);
  assert.deepEqual(res.props, { 'demo.user': 'kept', 'https.proxyHost': '127.0.0.1' });
  assert.equal(
    options.split(' ').find((o) => o.startsWith('-Djavax.net.ssl.trustStore=')),
    `-Djavax.net.ssl.trustStore=${await ensureTruststore(caDir)}`,
  );
});

test('replay --app gets JAVA_TOOL_OPTIONS only for a JVM command; capture prints a shell-ready line', async () => {
  const req = { userOptions: '-Xmx64m', proxyUrl: 'http://127.0.0.1:9', caDir: path.join(dir, 'ca') };
  assert.deepEqual(await jvmAppEnv({ ...req, command: 'node server.js' }), {});
  const notice = await jvmCaptureNotice(4140, path.join(dir, 'ca'));
  const quoted = /JAVA_TOOL_OPTIONS='([^']*)'/.exec(notice);
  assert.ok(quoted, notice);
  assert.match(quoted[1], /^-Dreprise\.jvm=capture -Dhttp\.proxyHost=127\.0\.0\.1 -Dhttp\.proxyPort=4140 /);
  assert.match(quoted[1], /-Djavax\.net\.ssl\.trustStore=\S+truststore\.jks/);
  // Without interception (no CA given) the JVM needs the proxy only.
  assert.doesNotMatch(await jvmCaptureNotice(4140), /trustStore/);
});
