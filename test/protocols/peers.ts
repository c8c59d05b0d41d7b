/**
 * The real HTTP/2 and gRPC peers (installed by scripts/ensure-grpc-tools.sh, cached) as
 * processes, and a plain TCP relay between a client and a server that keeps a copy of every
 * chunk of both directions, in arrival order, for the decoders under test.
 */
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export type Tools = Record<
  | 'greeter_server'
  | 'route_guide_server'
  | 'route_guide_client'
  | 'reflection_server'
  | 'compression_server'
  | 'compression_client'
  | 'grpcurl'
  | 'ghz'
  | 'proto'
  | 'nghttpd'
  | 'nghttp'
  | 'h2load'
  | 'nghttpx'
  | 'curl',
  string
>;

let tools: Tools | undefined;

/** Paths of the peers; installs them on first use (a no-op when cached). */
export function peerTools(): Tools {
  if (tools) return tools;
  const r = spawnSync('bash', [path.join(root, 'scripts/ensure-grpc-tools.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 3_600_000,
  });
  if (r.status !== 0) throw new Error(`scripts/ensure-grpc-tools.sh failed (exit ${r.status})`);
  tools = Object.fromEntries(
    r.stdout
      .trim()
      .split('\n')
      .map((l) => l.split(': ')),
  ) as Tools;
  return tools;
}

export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

export interface Server {
  port: number;
  stop(): Promise<void>;
}

/** Starts a server process and waits until its port accepts connections; `onStdout` gets its output. */
export async function startServer(
  bin: string,
  args: (port: number) => string[],
  onStdout?: (text: string) => void,
): Promise<Server> {
  const port = await freePort();
  const proc = spawn(bin, args(port), { stdio: ['ignore', onStdout ? 'pipe' : 'ignore', 'pipe'] });
  if (onStdout) proc.stdout!.on('data', (d: Buffer) => onStdout(d.toString()));
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`${path.basename(bin)} exited ${proc.exitCode}: ${stderr}`);
    if (await accepts(port)) break;
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`${path.basename(bin)} did not listen on ${port}: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { port, stop: () => stopProcess(proc) };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function stopProcess(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

/** Runs a client to completion; rejects with its stderr when it fails. */
export function runClient(bin: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      bin,
      args,
      { maxBuffer: 64 << 20, timeout: 60_000, encoding: 'buffer' },
      (err, stdout, stderr) => {
        if (err)
          reject(new Error(`${path.basename(bin)} ${args.join(' ')}: ${err.message}\n${stderr.toString()}`));
        else resolve(stdout.toString('latin1'));
      },
    );
  });
}

export interface TeeEvent {
  /** 0: from the client, 1: from the server. */
  dir: 0 | 1;
  bytes: Buffer;
  t: number;
}

/** A TCP relay that tees both directions of every connection. */
export class TeeRelay {
  readonly connections: TeeEvent[][] = [];
  private readonly open = new Set<net.Socket>();
  private idleWaiters: (() => void)[] = [];

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  static async start(targetPort: number): Promise<TeeRelay> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const relay = new TeeRelay(server, (server.address() as net.AddressInfo).port);
    server.on('connection', (client) => relay.relay(client, targetPort));
    return relay;
  }

  private relay(client: net.Socket, targetPort: number): void {
    const events: TeeEvent[] = [];
    this.connections.push(events);
    const upstream = net.connect(targetPort, '127.0.0.1');
    for (const [from, to, dir] of [
      [client, upstream, 0],
      [upstream, client, 1],
    ] as const) {
      this.open.add(from);
      from.on('data', (bytes: Buffer) => {
        events.push({ dir, bytes, t: performance.now() });
        to.write(bytes);
      });
      from.on('end', () => to.end());
      from.on('error', () => to.destroy());
      from.on('close', () => {
        this.open.delete(from);
        to.destroy();
        if (this.open.size === 0) for (const w of this.idleWaiters.splice(0)) w();
      });
    }
  }

  /** Resolves when every relayed connection has closed. */
  idle(): Promise<void> {
    if (this.open.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  async stop(): Promise<void> {
    for (const s of this.open) s.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
