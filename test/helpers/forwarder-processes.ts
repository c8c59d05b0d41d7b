/** Real forwarder processes (dist/workers/forwarder.js) on loopback, with the environment given. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { RRPair } from '../../src/model/traffic.js';

const WORKER = fileURLToPath(new URL('../../workers/forwarder.js', import.meta.url));

export interface ForwarderProcess {
  url: string;
  child: ChildProcess;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<void>;
  /** SIGKILL (a crash) and wait for the exit. */
  kill(): Promise<void>;
}

export async function startForwarderProcess(
  home: string,
  env: Record<string, string>,
): Promise<ForwarderProcess> {
  const child = spawn(process.execPath, [WORKER, '--port', '0', '--home', home, '--no-dlp'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const first = (await lines.next()).value as string | undefined;
  const ready = first ? (JSON.parse(first) as { event: string; port: number }) : undefined;
  if (ready?.event !== 'ready') {
    child.kill('SIGKILL');
    throw new Error(`forwarder did not start: ${first ?? ''} ${stderr}`);
  }
  const end = async (signal: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    await exited;
  };
  return {
    url: `http://127.0.0.1:${ready.port}`,
    child,
    stop: () => end('SIGTERM'),
    kill: () => end('SIGKILL'),
  };
}

/** POSTs pairs as one NDJSON batch for `service`; throws unless the forwarder takes it (202). */
export async function postPairs(url: string, pairs: RRPair[], service: string): Promise<void> {
  const res = await fetch(`${url}/v1/pairs`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-ndjson', 'x-reprise-service': service },
    body: pairs.map((p) => JSON.stringify(p)).join('\n') + '\n',
  });
  const text = await res.text();
  if (res.status !== 202) throw new Error(`POST ${url}/v1/pairs: ${res.status} ${text}`);
}
