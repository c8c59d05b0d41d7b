/**
 * A Temporal dev server (`temporal server start-dev`) owned by this process: the embedded
 * default, `reprise up`, and the tests. It registers Reprise's search attributes at start.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { childLog } from '../base/log.js';
import { ensureTemporalBinary } from './binary.js';
import { DEFAULT_NAMESPACE, tryConnect } from './connect.js';
import { SEARCH_ATTRIBUTES } from './names.js';

export interface DevServerOptions {
  /** gRPC port; default a free one. */
  port?: number;
  /** Web UI port; default port + 1000 (the CLI's default). Ignored when headless. */
  uiPort?: number;
  /** SQLite file to keep runs across restarts; default in memory. */
  dbFile?: string;
  headless?: boolean;
  namespace?: string;
  /** How long to wait for the server to accept connections. */
  readyTimeoutMs?: number;
  /** Extra flags for `temporal server start-dev` (tests tune dynamic config with these). */
  extraArgs?: string[];
}

export interface DevServer {
  /** `127.0.0.1:PORT`. */
  address: string;
  namespace: string;
  /** Absent when headless. */
  uiUrl?: string;
  pid: number;
  /** SIGTERM, then SIGKILL after a bound; idempotent. */
  stop(): Promise<void>;
}

/** A port free right now on loopback (the kernel's pick). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** The arguments of `temporal server start-dev` on 127.0.0.1, with Reprise's search attributes. */
export function devServerArgs(opts: DevServerOptions & { port: number }): string[] {
  const namespace = opts.namespace ?? DEFAULT_NAMESPACE;
  return [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(opts.port),
    ...(opts.uiPort === undefined ? ['--headless'] : ['--ui-port', String(opts.uiPort)]),
    ...(opts.dbFile ? ['--db-filename', opts.dbFile] : []),
    ...(namespace === DEFAULT_NAMESPACE ? [] : ['--namespace', namespace]),
    ...SEARCH_ATTRIBUTES.flatMap((key) => ['--search-attribute', `${key.name}=Keyword`]),
    '--log-level',
    'warn',
    ...(opts.extraArgs ?? []),
  ];
}

const OUTPUT_KEPT = 40;
const STOP_GRACE_MS = 10_000;

export async function startDevServer(opts: DevServerOptions = {}): Promise<DevServer> {
  const log = childLog('temporal');
  const binary = await ensureTemporalBinary();
  const port = opts.port ?? (await freePort());
  const namespace = opts.namespace ?? DEFAULT_NAMESPACE;
  const uiPort = opts.headless ? undefined : (opts.uiPort ?? port + 1000);
  const args = devServerArgs({ ...opts, port, uiPort, namespace });
  // Own process group: a Ctrl-C in the terminal must not kill the server before the command
  // has torn down its capture through it. The exit hook below still ends it with us.
  const child = spawn(binary, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    output.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    output.splice(0, Math.max(0, output.length - OUTPUT_KEPT));
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let exited = false;
  const exitedPromise = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  child.once('error', (err) => keep(Buffer.from(err.message)));
  const killOnExit = () => {
    if (!exited) child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  const stop = async () => {
    process.removeListener('exit', killOnExit);
    if (exited) return;
    child.kill('SIGTERM');
    const timer = delay(STOP_GRACE_MS).then(() => 'timeout');
    if ((await Promise.race([exitedPromise, timer])) === 'timeout') {
      child.kill('SIGKILL');
      await exitedPromise;
    }
  };

  const address = `127.0.0.1:${port}`;
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 30_000);
  const started = Date.now();
  for (;;) {
    const connection = exited ? undefined : await tryConnect({ address, namespace }, 1_000);
    if (connection) {
      await connection.close();
      break;
    }
    if (exited || Date.now() >= deadline) {
      await stop();
      const why = exited ? 'exited' : `did not answer within ${opts.readyTimeoutMs ?? 30_000} ms`;
      throw new Error(`temporal server start-dev on ${address} ${why}:\n${output.join('\n')}`);
    }
    await delay(100);
  }
  log.debug({ address, pid: child.pid, ms: Date.now() - started }, 'dev server ready');
  return {
    address,
    namespace,
    uiUrl: uiPort === undefined ? undefined : `http://127.0.0.1:${uiPort}`,
    pid: child.pid!,
    stop,
  };
}
