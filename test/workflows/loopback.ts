/**
 * Real HTTP on loopback for capture tests: an app with an outbound dependency it calls
 * through the sidecar's forward proxy, a client, and checks on ports and processes.
 */
import { readFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import { connect } from 'node:net';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { isAlive, type ProcessRecord } from '../../activities/local/processes.js';

export interface LoopbackApp {
  port: number;
  /** Set once the capture's outPort is known: `/checkout` calls the dependency through it. */
  proxyPort?: number;
  close(): Promise<void>;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
  );
}

const closeServer = (server: Server) =>
  new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });

/** `GET /hello?name=x` answers directly; `GET /checkout` also calls `GET /price` on a dependency. */
export async function startLoopbackApp(): Promise<LoopbackApp> {
  const dependency = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"price":42}');
  });
  const depPort = await listen(dependency);
  const app: LoopbackApp = { port: 0, close: async () => {} };
  const server = createServer((req, res) => {
    if (req.url?.startsWith('/checkout') && app.proxyPort) {
      // Through the sidecar's outbound proxy, as HTTP_PROXY would route it.
      const out = request(
        {
          host: '127.0.0.1',
          port: app.proxyPort,
          path: `http://127.0.0.1:${depPort}/price`,
          headers: { host: `127.0.0.1:${depPort}` },
        },
        (dep) => dep.pipe(res.writeHead(dep.statusCode ?? 502, { 'content-type': 'application/json' })),
      );
      out.on('error', (err) => res.writeHead(502).end(err.message));
      out.end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ hello: req.url }));
  });
  app.port = await listen(server);
  app.close = async () => {
    await closeServer(server);
    await closeServer(dependency);
  };
  return app;
}

export async function get(port: number, urlPath: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${urlPath}`, { headers: { connection: 'close' } });
  return { status: res.status, body: await res.text() };
}

/** Whether something accepts TCP connections on the port. */
export function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * process.kill(pid, 0), except that a zombie counts as gone: an orphan of a killed worker may
 * wait a while for its reaper, holding no port and running nothing.
 */
export const pidAlive = isAlive;

/** A pid file the local runtime keeps for a capture (`$REPRISE_HOME/run/<workflowId>/<name>.json`). */
export async function processRecord(home: string, captureId: string, name: string): Promise<ProcessRecord> {
  return JSON.parse(
    await readFile(path.join(home, 'run', captureId, `${name}.json`), 'utf8'),
  ) as ProcessRecord;
}

export async function recordedPids(
  home: string,
  captureId: string,
): Promise<{ forwarder: number; sidecar: number }> {
  const [forwarder, sidecar] = await Promise.all(
    ['forwarder', 'sidecar'].map((n) => processRecord(home, captureId, n)),
  );
  return { forwarder: forwarder.pid, sidecar: sidecar.pid };
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(100);
  }
}
