/**
 * The whole loop on real parts: a real Temporal dev server and worker, the demo services on
 * loopback, the sidecar and forwarder processes for the capture, then replays with the real
 * `inventory` stopped and the responder standing in for it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { freePort } from '../../src/temporal/dev-server.js';
import { projectRoot } from '../../src/base/project-root.js';
import { replayDir, runDir } from '../../src/base/paths.js';
import type { ReplayInputText, ReplayProgress, ReplayResult } from '../../src/config/replay.js';
import type { Report } from '../../src/report/schema.js';
import type { CaptureProgress, CaptureResult } from '../../src/config/capture.js';
import { driveTraffic } from '../../demo/client.js';
import { startDemoService } from '../../demo/processes.js';
import { accepts, waitFor } from '../workflows/loopback.js';
import {
  startCapturing,
  startHarness,
  TASK_QUEUE,
  workflowId,
  type WorkflowHarness,
} from '../workflows/harness.js';

let h: WorkflowHarness;
let snapshotId: string;
let inventoryUrl: string;

const ordersCommand = `${process.execPath} ${path.join(projectRoot, 'dist/demo/orders.js')}`;

async function replay(
  input: Omit<ReplayInputText, 'snapshotId' | 'target'> & { env?: Record<string, string> },
) {
  const port = await freePort();
  const { env, ...rest } = input;
  const id = workflowId('replay');
  const handle = await h.client.workflow.start('replayWorkflow', {
    taskQueue: TASK_QUEUE,
    workflowId: id,
    args: [
      {
        snapshotId,
        target: {
          url: `http://127.0.0.1:${port}`,
          app: {
            command: ordersCommand,
            env: { INVENTORY_URL: inventoryUrl, ...env },
            readyPath: '/healthz',
          },
        },
        ...rest,
      },
    ],
  });
  return { handle, port };
}

async function report(result: ReplayResult): Promise<Report> {
  return JSON.parse(
    await readFile(path.join(replayDir(h.home, result.replayId), 'report.json'), 'utf8'),
  ) as Report;
}

before(async () => {
  h = await startHarness();
  const inventory = await startDemoService('inventory');
  inventoryUrl = inventory.url;
  const [inPort, outPort] = [await freePort(), await freePort()];
  const orders = await startDemoService('orders', {
    INVENTORY_URL: inventory.url,
    HTTP_PROXY: `http://127.0.0.1:${outPort}`,
  });
  const capture = await startCapturing(h.client, {
    service: 'orders',
    target: { appPort: orders.port, inPort, outPort },
  });
  const traffic = await driveTraffic(`http://127.0.0.1:${inPort}`, 3);
  assert.equal(traffic.failures, 0);
  await waitFor(
    'all pairs',
    async () => {
      const p = await capture.query<CaptureProgress>('progress');
      return p.pairs >= traffic.requests + 12 ? p : undefined;
    },
    60_000,
  );
  await capture.signal('stop');
  const result = (await capture.result()) as CaptureResult;
  snapshotId = result.snapshotId;
  assert.equal(result.inbound, 18);
  assert.equal(result.outbound, 12);
  // The real dependency is gone for every replay below: the responder must stand in for it.
  await inventory.stop();
  await orders.stop();
});

after(async () => {
  await h?.close();
});

test('the demo replays Passed with inventory stopped and the responder answering every call', async () => {
  const { handle } = await replay({ load: { connections: 4 } });
  const result = (await handle.result()) as ReplayResult;
  const r = await report(result);
  assert.equal(result.verdict, 'Passed', JSON.stringify(r.diffs.slice(0, 3)));
  assert.equal(result.requests, 18);
  assert.equal(result.errors, 0);
  assert.equal(result.responder.noMatch, 0);
  assert.equal(result.responder.match, 12);
  // The volatile fields were found by noise detection, not by configuration.
  const noisy = new Set(r.noise.map((n) => n.path));
  assert.ok(
    [...noisy].some((p) => p.includes('createdAt')),
    `noise: ${[...noisy].join(', ')}`,
  );
  assert.ok([...noisy].some((p) => p.includes('reservationId')));
});

test('a broken build (a changed field) is Missed Goals with the field in the diff', async () => {
  const { handle } = await replay({ env: { DEMO_BROKEN: 'field' } });
  const result = (await handle.result()) as ReplayResult;
  assert.equal(result.verdict, 'Missed Goals');
  const r = await report(result);
  const paths = r.diffs.flatMap((d) => d.diffs.filter((x) => !x.noise).map((x) => x.path));
  assert.ok(paths.includes('$.total'), `diffs: ${paths.join(', ')}`);
  assert.ok(r.goals.some((g) => g.name === 'assertionPassRate' && !g.passed));
});

test('a slower endpoint misses a latency goal, and the goal is named', async () => {
  const { handle } = await replay({ env: { DEMO_BROKEN: 'slow' }, goals: { p95Ms: 100 } });
  const result = (await handle.result()) as ReplayResult;
  assert.equal(result.verdict, 'Missed Goals');
  const r = await report(result);
  const goal = r.goals.find((g) => g.name === 'p95Ms');
  assert.ok(goal && !goal.passed && (goal.actual ?? 0) > 100, JSON.stringify(r.goals));
});

test('a responder miss is counted and listed in the report', async () => {
  // A different inventory path than recorded: every outbound call misses.
  const { handle } = await replay({ env: { INVENTORY_URL: 'http://inventory.invalid:81' } });
  const result = (await handle.result()) as ReplayResult;
  assert.ok(result.responder.noMatch > 0);
  assert.equal(result.responder.match, 0);
  const r = await report(result);
  assert.ok(r.responder && r.responder.misses.length > 0);
  assert.match(r.responder.misses[0].url, /inventory\.invalid/);
  // The app gets 404s from the responder instead of stock: its answers differ from the recording.
  assert.equal(result.verdict, 'Missed Goals', r.verdictReason);
  const missed = r.goals.filter((g) => !g.passed).map((g) => g.name);
  assert.ok(missed.length > 0, JSON.stringify(r.goals));
  for (const name of missed) assert.match(r.verdictReason, new RegExp(name));
});

test('a replay cancelled mid-generator leaves no process or port behind', async () => {
  const { handle, port } = await replay({ load: { rate: 5, passes: 50, connections: 1 } });
  await waitFor(
    'the generator to run',
    async () => {
      const p = await handle.query<ReplayProgress>('progress');
      return p.phase === 'Testing' && p.sent > 0 ? p : undefined;
    },
    60_000,
  );
  const runFolder = path.join(runDir(h.home), handle.workflowId);
  const pids = await Promise.all(
    ['app', 'responder', 'generator'].map(async (name) => {
      const record = JSON.parse(await readFile(path.join(runFolder, `${name}.json`), 'utf8')) as {
        pid: number;
      };
      return record.pid;
    }),
  );
  await handle.cancel();
  await assert.rejects(handle.result());
  for (const pid of pids) {
    assert.throws(() => process.kill(pid, 0), `pid ${pid} still alive`);
  }
  assert.equal(await accepts(port), false, 'the app port is still open');
});
