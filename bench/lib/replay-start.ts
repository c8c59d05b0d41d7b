/**
 * `replay-start-latency`: from starting replayWorkflow (a Temporal client; a real dev server and
 * an orchestrator worker process already running; a snapshot in the store) to the first
 * request the app under test receives, as the app itself records it. Local runtime, with the
 * long-lived worker's warm standbys (activities/local/standby.ts): the warm-up replay takes the
 * first ones and each measured replay the ones loaded after the previous replay.
 */
import { mkdir, readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time.js';
import { FsSnapshotStore } from '../../src/store/fs-store.js';
import { runDir } from '../../src/base/paths.js';
import { STANDBY_READY_EVENT } from '../../src/base/worker-args.js';
import { startDevServer } from '../../src/temporal/dev-server.js';
import { TASK_QUEUE } from '../../src/temporal/names.js';
import type { BenchContext, MeasureResult } from './types.js';
import { distPath, median, round, startReady, type Started } from './common.js';
import { samplePair } from './sample-pairs.js';

/** A JSON app that remembers when its first request arrived (GET /__first; POST /__reset). */
const ARRIVAL_APP_SOURCE = `
const http = require('node:http');
let first = 0;
const server = http.createServer((req, res) => {
  let body;
  if (req.url === '/__first') body = JSON.stringify({ first });
  else if (req.url === '/__reset') { first = 0; body = '{}'; }
  else {
    if (!first) first = Date.now();
    body = JSON.stringify({ ok: true, path: req.url });
  }
  req.resume();
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));
`;

const SNAPSHOT_PAIRS = 40;
/** The longest wait for the standbys between replays; past it the replay goes ahead (and says so). */
const STANDBY_WAIT_MS = 60_000;

/** Waits until a responder and a generator standby have printed their ready line; the ms waited. */
async function standbysReady(home: string): Promise<number> {
  const dir = path.join(runDir(home), 'standby');
  const t0 = Date.now();
  while (Date.now() - t0 < STANDBY_WAIT_MS) {
    const logs = await readdir(dir).catch(() => [] as string[]);
    const ready = new Set<string>();
    for (const log of logs) {
      const text = await readFile(path.join(dir, log), 'utf8').catch(() => '');
      if (text.includes(`"event":"${STANDBY_READY_EVENT}"`)) ready.add(log.split('-')[0]);
    }
    if (ready.has('responder') && ready.has('generator')) return Date.now() - t0;
    await sleep(50);
  }
  return Date.now() - t0;
}

async function writeSnapshot(home: string): Promise<string> {
  const writer = await new FsSnapshotStore(home).createWriter({ service: 'orders', source: 'capture' });
  for (let i = 0; i < SNAPSHOT_PAIRS; i++) await writer.append(samplePair(i));
  return (await writer.seal()).id;
}

async function firstArrival(appUrl: string, deadline: number): Promise<number> {
  for (;;) {
    const { first } = (await (await fetch(`${appUrl}/__first`)).json()) as { first: number };
    if (first) return first;
    if (Date.now() > deadline) throw new Error('the app received no request within the deadline');
    await new Promise((r) => setTimeout(r, 10));
  }
}

type Mode = 'full-replay' | 'generator-only';

interface Run {
  /** Seconds from workflow start to the first request at the app. */
  firstRequest: number;
  /** Seconds from workflow start to its result (the whole replay, teardown included). */
  total: number;
  /** Where the time before the first request went, from the workflow's history (seconds). */
  phases: Record<string, number>;
}

/**
 * From the workflow's history: how long each activity before the generator took, and when the
 * generator's activity was scheduled (after that, the time is the generator process starting).
 */
async function phases(handle: WorkflowHandle, t0: number): Promise<Record<string, number>> {
  const history = await handle.fetchHistory();
  const scheduled = new Map<string, { name: string; at: number }>();
  const out: Record<string, number> = {};
  for (const e of history.events ?? []) {
    const at = tsToMs(e.eventTime);
    const s = e.activityTaskScheduledEventAttributes;
    if (s) {
      const name = s.activityType?.name ?? '?';
      if (name === 'runGenerator') {
        out['runGenerator scheduled at'] = (at - t0) / 1000;
        break;
      }
      scheduled.set(String(e.eventId), { name, at });
    }
    const c = e.activityTaskCompletedEventAttributes;
    const sched = c && scheduled.get(String(c.scheduledEventId));
    if (sched) out[sched.name] = (at - sched.at) / 1000;
  }
  return out;
}

async function replayOnce(
  client: Client,
  appUrl: string,
  snapshotId: string,
  mode: Mode,
  n: number,
): Promise<Run> {
  await fetch(`${appUrl}/__reset`);
  const t0 = Date.now();
  const handle = await client.workflow.start('replayWorkflow', {
    taskQueue: TASK_QUEUE,
    workflowId: `bench-replay-start-${process.pid}-${n}`,
    args: [{ snapshotId, target: { url: appUrl }, mode, load: { connections: 2 } }],
  });
  const first = await firstArrival(appUrl, t0 + 60_000);
  const result = (await handle.result()) as { verdict: string };
  const total = (Date.now() - t0) / 1000;
  if (result.verdict === 'Error') throw new Error(`replay ${handle.workflowId} ended in Error`);
  return { firstRequest: (first - t0) / 1000, total, phases: await phases(handle, t0) };
}

export async function replayStartLatency(ctx: BenchContext): Promise<MeasureResult[]> {
  const home = path.join(ctx.workDir, 'replay-home');
  await mkdir(home, { recursive: true });
  const runs = ctx.quick ? 1 : 3;
  const server = await startDevServer({ headless: true });
  let worker: Started | undefined;
  let app: Started | undefined;
  let connection: Connection | undefined;
  try {
    const env = { TEMPORAL_ADDRESS: server.address, REPRISE_HOME: home, REPRISE_LOG_LEVEL: 'warn' };
    worker = await startReady(process.execPath, [distPath('workers/orchestrator.js')], {
      env,
      timeoutMs: 60_000,
    });
    app = await startReady(process.execPath, ['-e', ARRIVAL_APP_SOURCE]);
    const appUrl = `http://127.0.0.1:${Number(app.ready.port)}`;
    const snapshotId = await writeSnapshot(home);
    connection = await Connection.connect({ address: server.address });
    const client = new Client({ connection, namespace: server.namespace });
    let n = 0;
    // Warm-up: the worker's first workflow task loads the bundle, the OS caches the scripts.
    await replayOnce(client, appUrl, snapshotId, 'full-replay', n++);
    const byMode: Record<Mode, Run[]> = { 'full-replay': [], 'generator-only': [] };
    const waits: number[] = [];
    for (let i = 0; i < runs; i++) {
      for (const mode of ['full-replay', 'generator-only'] as const) {
        // The worker replaces the standbys a replay took once it is over; they load meanwhile.
        waits.push(await standbysReady(home));
        const r = await replayOnce(client, appUrl, snapshotId, mode, n++);
        byMode[mode].push(r);
        ctx.log(
          `replay start (${mode}): first request after ${round(r.firstRequest, 2)} s, done after ${round(r.total, 2)} s; ` +
            describePhases(r.phases),
        );
      }
    }
    const full = byMode['full-replay'].map((r) => r.firstRequest);
    const gen = byMode['generator-only'].map((r) => r.firstRequest);
    const value = median(full);
    return [
      {
        name: 'replay-start-latency',
        unit: 's',
        value: round(value, 2),
        baseline: null,
        ratio: null,
        target: '<= 1 s',
        met: value <= 1,
        runs: full.map((x) => round(x, 2)),
        notes: [
          `full-replay (responder + generator) against a running JSON app, ${SNAPSHOT_PAIRS}-pair snapshot; ` +
            'from client.workflow.start to the first request the app records (dev server and orchestrator worker already running)',
          `generator-only: median ${round(median(gen), 2)} s (runs ${gen.map((x) => round(x, 2)).join(', ')})`,
          `where the time went (full-replay, median run): ${describePhases(medianRun(byMode['full-replay']).phases)}; ` +
            'the rest, after runGenerator is scheduled, is the generator (its standby) reading the snapshot and connecting',
          `the orchestrator keeps a warm standby of the responder and of the generator (Node started, modules loaded, TLS key made; REPRISE_STANDBY=0 turns them off), replaced after each replay; each replay starts once both standbys say they are warm (waited ${waits.map((w) => round(w / 1000, 1)).join(', ')} s; at most ${STANDBY_WAIT_MS / 1000} s)`,
          `whole replay incl. report and teardown: median ${round(median(byMode['full-replay'].map((r) => r.total)), 2)} s (full-replay)`,
        ],
      },
    ];
  } finally {
    await connection?.close();
    await app?.stop();
    await worker?.stop();
    await server.stop();
  }
}

const describePhases = (p: Record<string, number>) =>
  Object.entries(p)
    .map(([k, v]) => `${k} ${round(v, 2)} s`)
    .join(', ');

function medianRun(runs: Run[]): Run {
  const sorted = [...runs].sort((a, b) => a.firstRequest - b.firstRequest);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}
