/**
 * Real JVMs for the tests: the JDK (installed by the project's script when missing), a JVM HTTPS
 * probe run with the source launcher, and the Java demo's jars (built with Maven, cached).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect } from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { projectRoot } from '../../src/base/project-root.js';
import { loadCa } from '../../src/tls/ca.js';
import { LeafCertificates } from '../../sidecar/tls-interception.js';
import { runProcess, type CliRun } from './cli.js';

export type Run = CliRun;

/** A JDK 17+ and Maven on PATH (scripts/java-demo/ensure-jdk.sh installs them when missing). */
export function ensureJdk(): void {
  const run = spawnSync('bash', [path.join(projectRoot, 'scripts/java-demo/ensure-jdk.sh')], {
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`ensure-jdk.sh failed: ${run.stderr}`);
}

/** The Java demo's jars and TLS material (scripts/java-demo/build.sh; cached by input hash). */
export function buildJavaDemo(): string {
  const run = spawnSync('bash', [path.join(projectRoot, 'scripts/java-demo/build.sh')], {
    encoding: 'utf8',
    timeout: 15 * 60_000,
  });
  if (run.status !== 0) throw new Error(`build.sh failed (${run.status}): ${run.stderr}`);
  return run.stdout.trim().split('\n').pop()!;
}

/** A program to its end (java, keytool), output collected. */
export const run = (command: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> =>
  runProcess(command, args, env);

export interface ProbeResult {
  status?: number;
  body?: string;
  error?: string;
  props: Record<string, string | null>;
}

/** One GET from a real JVM (`HttpClient.newHttpClient()`), steered only by `javaToolOptions`. */
export async function jvmGet(
  url: string,
  javaToolOptions: string,
  props: string[] = [],
): Promise<ProbeResult> {
  const probe = path.join(projectRoot, 'test/fixtures/jvm/HttpsProbe.java');
  const r = await run('java', [probe, url, ...props], { JAVA_TOOL_OPTIONS: javaToolOptions });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (!line.startsWith('{')) throw new Error(`HttpsProbe printed no result (exit ${r.code}): ${r.stderr}`);
  return JSON.parse(line) as ProbeResult;
}

const listen = (server: Server) =>
  new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
  );

const close = (server: Server) =>
  new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });

/** An HTTPS server for `localhost` with a certificate from the CA in `caDir` (created if absent). */
export async function httpsServerSignedBy(caDir: string, body: string) {
  const leafs = await LeafCertificates.create(await loadCa(caDir));
  const server = createHttpsServer(await leafs.issue('localhost'), (_req, res) => res.end(body));
  return { port: await listen(server), close: () => close(server) };
}

/** A forward proxy that splices CONNECT tunnels and remembers their targets. */
export async function connectProxy() {
  const targets: string[] = [];
  const server = createHttpServer((_req, res) => res.writeHead(405).end());
  server.on('connect', (req, socket, head) => {
    targets.push(req.url ?? '');
    const [host, port] = (req.url ?? '').split(':');
    const upstream = connect(Number(port), host === 'localhost' ? '127.0.0.1' : host, () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(socket).pipe(upstream);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  return { port: await listen(server), targets, close: () => close(server) };
}

export interface JarProcess {
  port: number;
  output(): string;
  stop(): Promise<void>;
}

/** `java -jar JAR` with `env`, once its `{"event":"ready","port":P}` line is out. */
export function startJar(jar: string, env: NodeJS.ProcessEnv): Promise<JarProcess> {
  const child = spawn('java', ['-jar', jar], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  return new Promise((resolve, reject) => {
    const failed = (code: number | null) =>
      reject(new Error(`${jar} exited (${code}) before it was ready: ${output}`));
    child.once('exit', failed);
    child.once('error', reject);
    createInterface({ input: child.stdout }).on('line', (line) => {
      output += line + '\n';
      if (!line.includes('"event":"ready"')) return;
      child.off('exit', failed);
      resolve({ port: (JSON.parse(line) as { port: number }).port, output: () => output, stop });
    });
  });
}
