/** Recorded pairs built in memory and a real loopback target that remembers what it received. */
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readObserved } from '../../src/generator/observed-reader.js';
import type { ObservedExchange } from '../../src/model/replay.js';
import type { HttpRequest, RRPair } from '../../src/model/traffic.js';

export const CAPTURE_START = Date.parse('2024-03-10T12:00:00.000Z');

export function pair(
  i: number,
  over: Partial<Omit<RRPair, 'request'>> & { request?: Partial<HttpRequest> } = {},
): RRPair {
  const { request, ...rest } = over;
  return {
    id: `pair-${i}`,
    direction: 'inbound',
    service: 'orders',
    protocol: 'http/1.1',
    startedAt: new Date(CAPTURE_START + i).toISOString(),
    durationMs: 1,
    request: {
      method: 'GET',
      scheme: 'http',
      host: 'orders.internal',
      port: 80,
      path: `/items/${i}`,
      query: [],
      headers: [
        ['Host', 'orders.internal'],
        ['Accept', 'application/json'],
        ['Connection', 'keep-alive'],
      ],
      ...request,
    },
    response: { status: 200, headers: [], body: { encoding: 'utf8', data: '{}', size: 2, truncated: false } },
    tags: {},
    ...rest,
  };
}

export const pairs = (n: number) => Array.from({ length: n }, (_, i) => pair(i));

export interface Arrival {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Date.now() when the request had fully arrived. */
  at: number;
}

export interface Target {
  url: string;
  arrivals: Arrival[];
  /** Sockets the server holds open right now. */
  openSockets(): number;
  close(): Promise<void>;
}

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void;

/** Echoes the request back as JSON unless `handler` answers instead. */
export async function startTarget(handler?: Handler): Promise<Target> {
  const arrivals: Arrival[] = [];
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      arrivals.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body,
        at: Date.now(),
      });
      if (handler) return handler(req, res, body);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ method: req.method, url: req.url }));
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    arrivals,
    openSockets: () => sockets.size,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export async function tempDir(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'reprise-gen-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

export async function observed(file: string): Promise<ObservedExchange[]> {
  const out: ObservedExchange[] = [];
  for await (const ob of readObserved(file)) out.push(ob);
  return out;
}

/** How many times each value occurs. */
export function counts(values: Iterable<string>): Map<string, number> {
  const m = new Map<string, number>();
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
  return m;
}

/** Resolves when `check` holds, polling; rejects after `ms`. */
export async function eventually(check: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
