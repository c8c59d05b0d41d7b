/**
 * gRPC end to end on real parts: the demo's grpc-js `orders` calls grpc-js `inventory` through
 * the capture sidecar's forward proxy (http_proxy, CONNECT, h2c in the tunnel) while a grpc-js
 * client calls orders through the sidecar (unary and server streaming). captureWorkflow seals
 * the snapshot; inventory is stopped; replayWorkflow and `reprise replay --app` start orders
 * with the responder answering its outbound gRPC from the recording.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { freePort, startDevServer, type DevServer } from '../../src/temporal/dev-server.js';
import { startInProcessWorker, type InProcessWorker } from '../../workers/orchestrator.js';
import { projectRoot } from '../../src/base/project-root.js';
import { replayDir } from '../../src/base/paths.js';
import { TASK_QUEUE } from '../../src/temporal/names.js';
import type { ReplayResult } from '../../src/config/replay.js';
import type { CaptureProgress, CaptureResult } from '../../src/config/capture.js';
import type { Report } from '../../src/report/schema.js';
import { driveGrpcTraffic } from '../../demo/grpc/client.js';
import { startDemoService, type DemoService } from '../../demo/processes.js';
import { waitFor } from '../workflows/loopback.js';
import { startCapturing, workflowId } from '../workflows/harness.js';
import { runCli } from '../helpers/cli.js';

let server: DevServer;
let worker: InProcessWorker;
let client: Client;
let home: string;
let snapshotId: string;
let inventoryAddr: string;
/** Stopped by before() once captured; by after() too when before() failed half-way. */
const services: DemoService[] = [];

const ordersScript = path.join(projectRoot, 'dist/demo/grpc/orders.js');
const ROUNDS = 3;
// Per round: 2 PlaceOrder + 1 TrackOrder inbound; each makes one outbound call.
const CALLS = ROUNDS * 3;

async function report(replayId: string): Promise<Report> {
  return JSON.parse(await readFile(path.join(replayDir(home, replayId), 'report.json'), 'utf8')) as Report;
}

async function replay(env: Record<string, string> = {}): Promise<ReplayResult> {
  const port = await freePort();
  const handle = await client.workflow.start('replayWorkflow', {
    taskQueue: TASK_QUEUE,
    workflowId: workflowId('replay'),
    args: [
      {
        snapshotId,
        target: {
          url: `http://127.0.0.1:${port}`,
          app: {
            command: `${process.execPath} ${ordersScript}`,
            env: { INVENTORY_ADDR: inventoryAddr, ...env },
          },
        },
      },
    ],
  });
  return (await handle.result()) as ReplayResult;
}

/** The paths of the diffs that are not noise, over every call of the report. */
function realDiffs(r: Report): string[] {
  return r.diffs.flatMap((d) => d.diffs.filter((x) => !x.noise).map((x) => x.path));
}

before(async () => {
  home = await mkdtemp(path.join(tmpdir(), 'reprise-grpc-e2e-'));
  server = await startDevServer({ headless: true });
  worker = await startInProcessWorker({ address: server.address, namespace: server.namespace, home });
  client = new Client({
    connection: await Connection.connect({ address: server.address }),
    namespace: server.namespace,
  });

  const inventory = await startDemoService('grpc/inventory');
  services.push(inventory);
  inventoryAddr = `127.0.0.1:${inventory.port}`;
  const [inPort, outPort] = [await freePort(), await freePort()];
  // The env `reprise capture` tells the user to give the app: the proxy, in both spellings.
  const proxy = `http://127.0.0.1:${outPort}`;
  const orders = await startDemoService('grpc/orders', {
    INVENTORY_ADDR: inventoryAddr,
    HTTP_PROXY: proxy,
    http_proxy: proxy,
  });
  services.push(orders);
  const capture = await startCapturing(client, {
    service: 'orders',
    target: { appPort: orders.port, inPort, outPort },
  });
  const traffic = await driveGrpcTraffic(`127.0.0.1:${inPort}`, ROUNDS);
  assert.equal(traffic.failures, 0);
  assert.equal(traffic.events.length, ROUNDS * 3);
  await waitFor(
    'all pairs',
    async () => {
      const p = await capture.query<CaptureProgress>('progress');
      return p.pairs >= 2 * CALLS ? p : undefined;
    },
    60_000,
  );
  await capture.signal('stop');
  const result = (await capture.result()) as CaptureResult;
  snapshotId = result.snapshotId;
  assert.equal(result.inbound, CALLS);
  assert.equal(result.outbound, CALLS);
  // The real dependency is gone for every replay below: the responder must stand in for it.
  await inventory.stop();
  await orders.stop();
});

after(async () => {
  await Promise.all(services.map((s) => s.stop()));
  await client?.connection.close();
  await worker?.stop();
  await server?.stop();
  if (home) await rm(home, { recursive: true, force: true });
});

test('the gRPC demo replays Passed with inventory stopped and the responder answering its gRPC', async () => {
  const result = await replay();
  const r = await report(result.replayId);
  assert.equal(result.verdict, 'Passed', `${r.verdictReason} ${JSON.stringify(r.diffs.slice(0, 3))}`);
  assert.equal(result.requests, CALLS);
  assert.equal(result.errors, 0);
  assert.equal(result.responder.noMatch, 0);
  assert.equal(result.responder.match, CALLS);
  // order_id (1), created_at_ms (6) and the events' at_ms (4) change every call: found as noise.
  const noisy = new Set(r.noise.map((n) => n.path));
  for (const field of ["['1']", "['6']", "['4']"])
    assert.ok(
      [...noisy].some((p) => p.endsWith(field)),
      `noise: ${[...noisy].join(', ')}`,
    );
});

test('a build that changes the total is Missed Goals naming field 5', async () => {
  const result = await replay({ DEMO_BROKEN: 'field' });
  assert.equal(result.verdict, 'Missed Goals');
  const paths = realDiffs(await report(result.replayId));
  assert.ok(paths.length > 0 && paths.every((p) => p.endsWith("['5']")), `diffs: ${paths.join(', ')}`);
});

test('reprise replay --app replays the same snapshot Passed', async () => {
  const app = `INVENTORY_ADDR=${inventoryAddr} ${process.execPath} ${ordersScript}`;
  const target = `http://127.0.0.1:${await freePort()}`;
  const res = await runCli(['replay', snapshotId, '--target', target, '--app', app, '--json'], {
    TEMPORAL_ADDRESS: server.address,
    REPRISE_HOME: home,
  });
  assert.equal(res.code, 0, res.stderr);
  const out = JSON.parse(res.stdout) as { verdict: string; requests: number; responder: { match: number } };
  assert.equal(out.verdict, 'Passed');
  assert.equal(out.requests, CALLS);
  assert.equal(out.responder.match, CALLS);
});
