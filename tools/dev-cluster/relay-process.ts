/** Starts relay.ts as a cluster component and waits until it accepts connections. */
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import type { Launcher } from './launcher.js';
import { freePorts } from './net.js';
import { isRunning, logTail } from './processes.js';

const READY_TIMEOUT_MS = 10_000;

const accepts = (host: string, port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, host);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

/** Resolves with `listenHost:PORT`, relaying to `target` (HOST:PORT). */
export async function startRelay(launcher: Launcher, listenHost: string, target: string): Promise<string> {
  if (!/^[^:]+:\d+$/.test(target)) throw new Error(`relay target: expected HOST:PORT, got "${target}"`);
  const script = fileURLToPath(new URL('./relay.js', import.meta.url));
  const [port] = await freePorts(1, listenHost);
  const entry = await launcher.start(`relay-${port}`, process.execPath, [
    script,
    `${listenHost}:${port}`,
    target,
  ]);
  for (const deadline = Date.now() + READY_TIMEOUT_MS; !(await accepts(listenHost, port)); await delay(50)) {
    if (!isRunning(entry) || Date.now() > deadline)
      throw new Error(
        `the relay to ${target} did not start (log ${entry.logFile}):\n${logTail(entry.logFile)}`,
      );
  }
  return `${listenHost}:${port}`;
}
