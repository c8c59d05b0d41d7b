/**
 * `npm run demo`: the local demo, end to end on this machine.
 *  1. Temporal: the `reprise up` server if one runs, else a dev server with its Web UI on
 *     :8233 (or a free port) and an orchestrator worker in this process.
 *  2. The demo services: `inventory`, and `orders` which calls it through HTTP_PROXY.
 *  3. captureWorkflow puts the sidecar in front of `orders`; the demo client drives traffic
 *     through it; the stop signal seals a masked snapshot.
 *  4. The real `inventory` is stopped; replayWorkflow starts `orders` again with its
 *     HTTP_PROXY aimed at the responder, replays the recorded requests, compares, reports.
 * Exits 0 when the replay's verdict is Passed.
 */
import { createServer } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { repriseHome } from '../src/base/paths.js';
import { openSnapshotStore } from '../src/store/open.js';
import { findServer, freePort, startDevServer, TASK_QUEUE } from '../src/temporal/index.js';
import { newId } from '../src/base/new-id.js';
import { startInProcessWorker } from '../workers/orchestrator.js';
import type { CaptureProgress, CaptureResult } from '../src/config/capture.js';
import type { ReplayResult } from '../src/config/replay.js';
import { projectRoot } from '../src/base/project-root.js';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { driveTraffic } from './client.js';
import { startDemoService, type DemoService } from './processes.js';

const say = (text: string) => process.stdout.write(text + '\n');

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

async function temporal(home: string) {
  const found = await findServer(home);
  if (found) {
    say(
      `Temporal: using ${found.server.address} (${found.source === 'up' ? '`reprise up`' : 'TEMPORAL_ADDRESS'})`,
    );
    return {
      client: new Client({ connection: found.connection, namespace: found.server.namespace }),
      uiUrl: found.uiUrl,
      close: () => found.connection.close(),
    };
  }
  const uiPort = (await portIsFree(8233)) ? 8233 : await freePort();
  const port = (await portIsFree(7233)) ? 7233 : await freePort();
  await mkdir(home, { recursive: true });
  // The same database `reprise up` uses: its UI shows the demo's runs after the demo exits.
  const server = await startDevServer({ port, uiPort, dbFile: path.join(home, 'temporal.db') });
  const worker = await startInProcessWorker({ address: server.address, namespace: server.namespace, home });
  const connection = await Connection.connect({ address: server.address });
  say(`Temporal: started a dev server at ${server.address}, Web UI ${server.uiUrl}`);
  return {
    client: new Client({ connection, namespace: server.namespace }),
    uiUrl: server.uiUrl,
    close: async () => {
      await connection.close();
      await worker.stop();
      await server.stop();
    },
  };
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`demo: timed out waiting for ${what}`);
}

async function main(): Promise<number> {
  const home = repriseHome();
  const t = await temporal(home);
  const services: DemoService[] = [];
  try {
    const inventory = await startDemoService('inventory');
    services.push(inventory);
    const [inPort, outPort] = [await freePort(), await freePort()];
    const orders = await startDemoService('orders', {
      INVENTORY_URL: inventory.url,
      HTTP_PROXY: `http://127.0.0.1:${outPort}`,
    });
    services.push(orders);
    say(`demo services: orders ${orders.url} -> inventory ${inventory.url}`);

    const workflowId = newId('capture-orders');
    const capture = await t.client.workflow.start('captureWorkflow', {
      taskQueue: TASK_QUEUE,
      workflowId,
      args: [{ service: 'orders', target: { appPort: orders.port, inPort, outPort } }],
    });
    await waitFor('the capture to start', 60_000, async () => {
      const p = await capture.query<CaptureProgress>('progress');
      return p.phase === 'capturing' ? p : undefined;
    });
    say(
      `capturing: sidecar in front of orders on :${inPort}, outbound proxy on :${outPort} (workflow ${workflowId})`,
    );
    const traffic = await driveTraffic(`http://127.0.0.1:${inPort}`, 3);
    // 18 inbound requests, 12 of them make outbound calls to inventory.
    const expected = traffic.requests + 12;
    await waitFor(`${expected} pairs in the recording`, 30_000, async () => {
      const p = await capture.query<CaptureProgress>('progress');
      return p.pairs >= expected ? p : undefined;
    }).catch(() => say(`(fewer than ${expected} pairs reached the forwarder in time; sealing what arrived)`));
    await capture.signal('stop');
    const result = (await capture.result()) as CaptureResult;
    say(
      `snapshot ${result.snapshotId}: ${result.pairs} pairs (${result.inbound} inbound, ${result.outbound} outbound), ` +
        `${result.dropped} dropped`,
    );
    const manifest = await openSnapshotStore(home).getManifest(result.snapshotId);
    for (const e of manifest.endpoints)
      say(`  ${e.direction.padEnd(8)} ${e.method.padEnd(5)} ${e.host}${e.path}  x${e.count}`);
    say(`secrets were masked before storage; see \`npx reprise snapshot export ${result.snapshotId} --har\``);

    // Replay: the real dependency is gone; the responder answers from the recording.
    for (const svc of services.splice(0).reverse()) await svc.stop();
    say('\nstopped inventory and orders; replaying against a fresh orders with the responder for inventory');
    const appPort = await freePort();
    const replayId = newId('replay-orders');
    const replay = await t.client.workflow.start('replayWorkflow', {
      taskQueue: TASK_QUEUE,
      workflowId: replayId,
      args: [
        {
          snapshotId: result.snapshotId,
          target: {
            url: `http://127.0.0.1:${appPort}`,
            app: {
              command: `"${process.execPath}" "${path.join(projectRoot, 'dist/demo/orders.js')}"`,
              env: { INVENTORY_URL: inventory.url },
              readyPath: '/healthz',
            },
          },
          load: { connections: 4 },
          goals: { successRate: 100, assertionPassRate: 100 },
        },
      ],
    });
    const outcome = (await replay.result()) as ReplayResult;
    say(`verdict: ${outcome.verdict}`);
    say(`requests: ${outcome.requests} sent, ${outcome.errors} errors`);
    say(
      `responder: ${outcome.responder.match} matched, ${outcome.responder.noMatch} not matched, ` +
        `${outcome.responder.passthrough} passed through`,
    );
    say(`report: ${outcome.reportPath}`);
    if (t.uiUrl) {
      say(`Temporal UI: ${t.uiUrl} (capture ${workflowId}, replay ${replayId})`);
      say('(the demo stops its Temporal server on exit; `npx reprise up` serves the same runs again)');
    }
    return traffic.failures === 0 && outcome.verdict === 'Passed' ? 0 : 1;
  } finally {
    for (const s of services.reverse()) await s.stop();
    await t.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`demo failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
