/** Real loopback servers for the sidecar tests: an app, a forwarder stand-in, raw clients. */
import http from 'node:http';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RRPair } from '../../src/model/traffic.js';
import { TapSession } from '../../src/protocols/capture/session.js';
import { PairIds } from '../../src/protocols/http1/pair.js';
import { type Sidecar, type SidecarOptions, startSidecar } from '../../sidecar/index.js';

export interface Listening {
  port: number;
  close(): Promise<void>;
}

export async function listen(server: net.Server, host = '127.0.0.1'): Promise<Listening> {
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        if ('closeAllConnections' in server) (server as http.Server).closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * The app: echoes what it got as JSON (`{method, url, body, id}`) with the status from
 * `?status=N`, after `?delay=MS`; `/chunked` answers in several chunks without a length;
 * `/bytes?n=N` answers N patterned bytes. `received` counts the requests it has seen.
 */
export async function startApp(): Promise<Listening & { received: number }> {
  let received = 0;
  const server = http.createServer((req, res) => {
    received++;
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const delay = Number(url.searchParams.get('delay') ?? 0);
      setTimeout(() => answer(req, res, url, Buffer.concat(parts).toString('utf8')), delay);
    });
  });
  const l = await listen(server);
  return Object.defineProperty(l, 'received', { get: () => received }) as Listening & { received: number };
}

function answer(req: http.IncomingMessage, res: http.ServerResponse, url: URL, body: string): void {
  if (url.pathname === '/bytes') {
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    res.end(patterned(Number(url.searchParams.get('n'))));
    return;
  }
  const status = Number(url.searchParams.get('status') ?? 200);
  const json = JSON.stringify({
    method: req.method,
    url: req.url,
    body,
    id: req.headers['x-request-id'] ?? null,
  });
  if (url.pathname === '/chunked') {
    res.writeHead(status, { 'content-type': 'application/json' });
    const third = Math.ceil(json.length / 3);
    res.write(json.slice(0, third));
    setImmediate(() => {
      res.write(json.slice(third, 2 * third));
      res.end(json.slice(2 * third));
    });
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
  res.end(status === 204 || status === 304 ? undefined : json);
}

/** Bytes 0..250 repeated: binary (base64 when recorded), easy to check position by position. */
export function patterned(n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = i % 251;
  return b;
}

export interface ForwarderDouble extends Listening {
  url: string;
  pairs: RRPair[];
  /** Each batch taken: its headers and the pairs decoded from it. */
  batches: { headers: http.IncomingHttpHeaders; lines: number }[];
  /** Answer every batch with this status from now on. */
  status: number;
}

/**
 * A test double of the forwarder's batch endpoint: decodes the tap batches the sidecar ships
 * with the forwarder's own decoder (src/protocols/capture: the real pairs, no DLP, no store),
 * and answers with the status a test sets (to make the sidecar retry or drop).
 * process.test.ts ships to the real forwarder.
 */
export async function startForwarderDouble(): Promise<ForwarderDouble> {
  const c = { pairs: [] as RRPair[], batches: [] as ForwarderDouble['batches'], status: 202 };
  const sessions = new Map<string, TapSession>();
  const ids = new PairIds();
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (p: Buffer) => parts.push(p));
    req.on('end', () => {
      if (c.status < 300) {
        const sidecar = String(req.headers['x-reprise-sidecar']);
        let session = sessions.get(sidecar);
        if (!session)
          sessions.set(sidecar, (session = new TapSession(sidecar, ids, { maxConnections: 100 })));
        const decoded = session.decode(Number(req.headers['x-reprise-seq']), Buffer.concat(parts), {
          service: String(req.headers['x-reprise-service']),
          maxBody: Number(req.headers['x-reprise-max-body']),
        });
        if (decoded.rejected.length) throw new Error(`rejected: ${decoded.rejected.join('; ')}`);
        // As stored: one JSON line per pair.
        for (const p of decoded.pairs) c.pairs.push(JSON.parse(JSON.stringify(p.pair)) as RRPair);
        c.batches.push({ headers: req.headers, lines: decoded.pairs.length });
      }
      res.writeHead(c.status, { 'content-type': 'application/json' }).end('{}');
    });
  });
  const l = await listen(server);
  return Object.assign(c, l, { url: `http://127.0.0.1:${l.port}` });
}

export async function waitFor(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

export function sidecarWith(opts: SidecarOptions): Promise<Sidecar> {
  return startSidecar({ inPort: 0, outPort: -1, adminPort: -1, flushMs: 20, ...opts });
}

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export function request(
  options: http.RequestOptions & { body?: string | Buffer; chunks?: string[] },
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = http.request(options, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (p: Buffer) => parts.push(p));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    if (options.chunks) {
      for (const c of options.chunks) req.write(c);
      req.end();
    } else req.end(options.body);
  });
}

/** Writes `bytes` on a fresh connection and returns everything read until the server closes. */
export function rawExchange(
  port: number,
  bytes: string | Buffer,
  opts: { endAfter?: (got: Buffer) => boolean } = {},
) {
  return new Promise<Buffer>((resolve, reject) => {
    const parts: Buffer[] = [];
    const socket = net.connect(port, '127.0.0.1', () => socket.write(bytes));
    socket.on('data', (p: Buffer) => {
      parts.push(p);
      if (opts.endAfter?.(Buffer.concat(parts))) socket.end();
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(parts)));
  });
}

export function pairsByPath(pairs: RRPair[], path: string): RRPair[] {
  return pairs.filter((p) => p.request.path === path);
}
