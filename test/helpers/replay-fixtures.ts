/**
 * Real parts for replay tests without a capture first: a snapshot written through the real
 * store, and a counting JSON app on loopback whose answers match that snapshot.
 */
import { createServer, type Server } from 'node:http';
import { Client, Connection } from '@temporalio/client';
import { startDevServer, type DevServer } from '../../src/temporal/dev-server.js';
import { FsSnapshotStore } from '../../src/store/fs-store.js';
import type { RRPair } from '../../src/model/traffic.js';
import type { SnapshotStore } from '../../src/store/types.js';

export interface CountingApp {
  url: string;
  port: number;
  /** Requests seen per path+query. */
  hits: Map<string, number>;
  close(): Promise<void>;
}

/** `GET /items/N` -> `{"id":N,"name":"item N"}`; every request is counted. */
export async function startCountingApp(delayMs = 0): Promise<CountingApp> {
  const hits = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const url = req.url ?? '/';
    hits.set(url, (hits.get(url) ?? 0) + 1);
    const id = Number(url.match(/\/items\/(\d+)/)?.[1] ?? 0);
    const body = JSON.stringify({ id, name: `item ${id}` });
    setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(body), delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A sealed snapshot of `count` inbound `GET /items/N` pairs with the answers startCountingApp gives. */
export async function writeItemsSnapshot(
  home: string,
  count: number,
  store: SnapshotStore = new FsSnapshotStore(home),
): Promise<string> {
  const writer = await store.createWriter({ service: 'items', source: 'capture' });
  const start = Date.now() - 60_000;
  for (let i = 1; i <= count; i++) {
    const body = JSON.stringify({ id: i, name: `item ${i}` });
    const pair: RRPair = {
      id: `pair-${i}`,
      direction: 'inbound',
      service: 'items',
      protocol: 'http/1.1',
      startedAt: new Date(start + i * 10).toISOString(),
      durationMs: 1,
      request: {
        method: 'GET',
        scheme: 'http',
        host: '127.0.0.1',
        port: 80,
        path: `/items/${i}`,
        query: [],
        headers: [],
      },
      response: {
        status: 200,
        headers: [['content-type', 'application/json']],
        body: { encoding: 'utf8', data: body, size: body.length, truncated: false },
      },
      tags: {},
    };
    await writer.append(pair);
  }
  return (await writer.seal()).id;
}

/** What replays through an orchestrator process need: a Temporal dev server, its client, an app. */
export interface ReplayBed {
  server: DevServer;
  client: Client;
  app: CountingApp;
  close(): Promise<void>;
}

export async function startReplayBed(): Promise<ReplayBed> {
  const server = await startDevServer({ headless: true });
  const client = new Client({ connection: await Connection.connect({ address: server.address }) });
  const app = await startCountingApp();
  return {
    server,
    client,
    app,
    close: async () => {
      await client.connection.close();
      await server.stop();
      await app.close();
    },
  };
}
