/**
 * The Java demo on this machine, end to end with the real CLI: `reprise capture` in front of a
 * real JVM (java-server) started with the JAVA_TOOL_OPTIONS the capture printed, java-client
 * driving it, its HTTPS calls to payments (TLS to a host name, the demo's own certificate)
 * recorded and masked; then `reprise replay SNAP --app "java -jar java-server.jar"` with payments
 * stopped, the responder answering the JVM's HTTPS calls, verdict Passed.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { gunzipSync } from 'node:zlib';
import { bodyText } from '../../src/model/body.js';
import type { RRPair } from '../../src/model/traffic.js';
import { FsSnapshotStore } from '../../src/store/fs-store.js';
import { freePort } from '../../src/temporal/dev-server.js';
import type { Report } from '../../src/report/schema.js';
import { repriseBin, runCli } from '../helpers/cli.js';
import { buildJavaDemo, run, startJar, type JarProcess } from '../helpers/jvm.js';
import { accepts } from '../workflows/loopback.js';

/** What the client sends and the server forwards: none of it may reach the store. */
const SECRETS = [
  '4111 1111 1111 1111',
  '5500 0000 0000 0004',
  'ada.lovelace@example.com',
  'grace.hopper@example.com',
  'demo-secret-token-6f1c2a9e',
  'pk_demo_51HqLyjWDarjtT1zdp7dc',
];
const ROUNDS = 4;

let demo: string;
let home: string;
let payments: JarProcess;
let userOptions: string;
let snapshotId: string;
let env: NodeJS.ProcessEnv;

before(async () => {
  demo = buildJavaDemo();
  home = await mkdtemp(path.join(tmpdir(), 'reprise-java-demo-'));
  payments = await startJar(path.join(demo, 'payments.jar'), {
    PORT: '0',
    PAYMENTS_KEYSTORE: path.join(demo, 'payments.p12'),
  });
  // The user's own JVM options: the demo's trust in payments' certificate, and a marker.
  userOptions = `-Djavax.net.ssl.trustStore=${demo}/payments-trust.p12 -Djavax.net.ssl.trustStorePassword=changeit -Ddemo.owner=kept`;
  env = {
    REPRISE_HOME: home,
    PAYMENTS_URL: `https://localhost:${payments.port}`,
    // The sidecar verifies the real upstream as any Node client does: trust payments' own certificate.
    NODE_EXTRA_CA_CERTS: path.join(demo, 'payments.pem'),
    TEMPORAL_ADDRESS: '',
    NO_COLOR: '1',
  };
});

after(async () => {
  await payments?.stop();
  if (home) await rm(home, { recursive: true, force: true });
});

/** `reprise capture` as a user starts it; resolves with the printed JAVA_TOOL_OPTIONS. */
function startCapture(args: string[]) {
  const child = spawn(process.execPath, [repriseBin, 'capture', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const printed = new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stderr }).on('line', (line) => {
      stderr += line + '\n';
      const m = /JAVA_TOOL_OPTIONS='([^']*)'/.exec(line);
      if (m) resolve(m[1]);
    });
    void exited.then((code) =>
      reject(new Error(`capture exited (${code}) before printing JAVA_TOOL_OPTIONS:\n${stderr}`)),
    );
  });
  return { child, printed, exited, output: () => ({ stdout, stderr }) };
}

async function snapshotPairs(id: string): Promise<RRPair[]> {
  const pairs: RRPair[] = [];
  for await (const p of new FsSnapshotStore(home).readPairs(id)) pairs.push(p);
  return pairs;
}

test("reprise capture records the JVM's HTTPS calls through the printed JAVA_TOOL_OPTIONS, secrets masked", async () => {
  const [appPort, inPort, outPort] = [await freePort(), await freePort(), await freePort()];
  const capture = startCapture([
    ...['--app-port', String(appPort), '--in-port', String(inPort), '--out-port', String(outPort)],
    ...['--service', 'java-server', '--tls-intercept', '--json'],
  ]);
  const printed = await capture.printed;
  assert.match(printed, new RegExp(`-Dhttps\\.proxyHost=127\\.0\\.0\\.1 -Dhttps\\.proxyPort=${outPort} `));
  assert.ok(printed.includes(`-Djavax.net.ssl.trustStore=${home}/ca/truststore.jks`), printed);

  const server = await startJar(path.join(demo, 'java-server.jar'), {
    ...env,
    PORT: String(appPort),
    JAVA_TOOL_OPTIONS: `${userOptions} ${printed}`,
  });
  try {
    const client = await run('java', [
      ...['-jar', path.join(demo, 'java-client.jar'), '--target', `http://127.0.0.1:${inPort}`],
      ...['--rate', '20', '--count', String(7 * ROUNDS)],
    ]);
    assert.equal(client.code, 0, client.stderr);
    const summary = JSON.parse(client.stdout.trim()) as { requests: number; failures: number };
    assert.deepEqual([summary.requests, summary.failures], [7 * ROUNDS, 0]);
  } finally {
    await server.stop();
  }
  capture.child.kill('SIGTERM'); // Ctrl-C: stop capturing, seal the snapshot
  assert.equal(await capture.exited, 0, capture.output().stderr);
  const result = JSON.parse(capture.output().stdout) as {
    snapshotId: string;
    pairs: number;
    dropped: number;
  };
  snapshotId = result.snapshotId;
  assert.equal(result.dropped, 0);

  const pairs = await snapshotPairs(snapshotId);
  const inbound = pairs.filter((p) => p.direction === 'inbound');
  const outbound = pairs.filter((p) => p.direction === 'outbound');
  assert.equal(inbound.length, 7 * ROUNDS);
  // Per round: two quotes (a rate each) and two orders (a charge each), all HTTPS to localhost.
  const calls = outbound.map(
    (p) =>
      `${p.request.scheme} ${p.request.method} ${p.request.host}:${p.request.port}${p.request.path} ${p.response?.status}`,
  );
  const rate = `https GET localhost:${payments.port}/v1/rates 200`;
  const charge = `https POST localhost:${payments.port}/v1/charges 201`;
  assert.deepEqual(calls.filter((c) => c === rate).length, 2 * ROUNDS, calls.join('\n'));
  assert.deepEqual(calls.filter((c) => c === charge).length, 2 * ROUNDS, calls.join('\n'));
  assert.equal(outbound.length, 4 * ROUNDS);

  const charges = outbound.filter((p) => p.request.path === '/v1/charges');
  for (const p of charges) {
    const auth = p.request.headers.find(([k]) => k.toLowerCase() === 'authorization')?.[1];
    assert.match(auth ?? '', /^Bearer REDACTED-secret-[0-9a-f]+$/);
    const body = JSON.parse(bodyText(p.request.body)) as Record<string, string>;
    assert.match(body.card, /^REDACTED-card-/);
    assert.match(body.email, /^REDACTED-email-/);
  }
  const dir = path.join(home, 'snapshots', snapshotId);
  const stored = (await readdir(dir)).map((f) => path.join(dir, f));
  for (const file of stored) {
    const bytes = await readFile(file);
    const text = (file.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8');
    for (const secret of [...SECRETS, SECRETS[0].replace(/ /g, '')])
      assert.ok(!text.includes(secret), `${path.basename(file)} holds "${secret}"`);
  }
});

test('replay --app "java -jar java-server.jar" Passes with payments stopped: the responder answers its HTTPS', async () => {
  assert.ok(snapshotId, 'the capture test ran first');
  await payments.stop();
  assert.equal(await accepts(payments.port), false, 'payments still listens');
  const port = await freePort();
  const res = await runCli(
    [
      'replay',
      snapshotId,
      '--target',
      `http://127.0.0.1:${port}`,
      '--app',
      `java -jar ${demo}/java-server.jar`,
      '--json',
    ],
    { ...env, JAVA_TOOL_OPTIONS: userOptions },
  );
  assert.equal(res.code, 0, `${res.stdout}\n${res.stderr}`);
  const result = JSON.parse(res.stdout) as {
    verdict: string;
    requests: number;
    errors: number;
    reportPath: string;
    responder: { match: number; noMatch: number; passthrough: number };
  };
  assert.equal(result.verdict, 'Passed');
  assert.deepEqual([result.requests, result.errors], [7 * ROUNDS, 0]);
  assert.deepEqual(result.responder, { match: 4 * ROUNDS, noMatch: 0, passthrough: 0 });

  // The JVM got the user's options first, then Reprise's block aimed at the responder.
  const report = JSON.parse(await readFile(result.reportPath.replace(/\.html$/, '.json'), 'utf8')) as Report;
  const appLog = report.logs.find((l) => l.name === 'app')?.lines.join('\n') ?? '';
  const picked = /Picked up JAVA_TOOL_OPTIONS: (.*)/.exec(appLog)?.[1] ?? '';
  assert.ok(
    picked.startsWith(`${userOptions} -Dreprise.jvm=replay -Dhttp.proxyHost=127.0.0.1 `),
    appLog.slice(0, 1500),
  );
  assert.match(
    picked,
    /-Djavax\.net\.ssl\.trustStore=\S+\/ca\/truststore\.jks -Djavax\.net\.ssl\.trustStoreType=JKS/,
  );
});
