/**
 * A replay survives its worker: the orchestrator runs as its own process, is killed with
 * SIGKILL while the generator runs, and a new one finishes the replay by re-attaching to
 * the same generator (found through its pid file). Every recorded request is still sent
 * exactly once, and nothing is left running afterwards.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isAlive } from '../../activities/local/processes.js';
import { runDir } from '../../src/base/paths.js';
import { TASK_QUEUE } from '../../src/temporal/names.js';
import type { ReplayProgress, ReplayResult } from '../../src/config/replay.js';
import { waitFor } from '../workflows/loopback.js';
import { startOrchestrator } from '../helpers/orchestrator-process.js';
import { startReplayBed, writeItemsSnapshot, type ReplayBed } from '../helpers/replay-fixtures.js';

let bed: ReplayBed;
let home: string;
const workers: ChildProcess[] = [];

before(async () => {
  home = await mkdtemp(path.join(tmpdir(), 'reprise-replay-restart-'));
  bed = await startReplayBed();
});

after(async () => {
  for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
  await bed?.close();
});

test('a worker killed mid-replay is replaced and the replay finishes, leaving nothing behind', async () => {
  const env = { TEMPORAL_ADDRESS: bed.server.address, REPRISE_HOME: home };
  const snapshotId = await writeItemsSnapshot(home, 60);
  workers.push(await startOrchestrator(env));
  const handle = await bed.client.workflow.start('replayWorkflow', {
    taskQueue: TASK_QUEUE,
    workflowId: `replay-restart-${Date.now()}`,
    args: [{ snapshotId, target: { url: bed.app.url }, load: { rate: 10, connections: 2 } }],
  });
  await waitFor(
    'the generator to run',
    async () => {
      const p = (await handle.query('progress')) as ReplayProgress;
      return p.phase === 'Testing' && p.sent >= 5;
    },
    60_000,
  );
  const folder = path.join(runDir(home), handle.workflowId);
  const pids: number[] = [];
  for (const file of (await readdir(folder)).filter((f) => /^(responder|generator)\.json$/.test(f))) {
    pids.push((JSON.parse(await readFile(path.join(folder, file), 'utf8')) as { pid: number }).pid);
  }
  assert.equal(pids.length, 2, 'responder and generator are running');

  const first = workers[0];
  first.kill('SIGKILL');
  await once(first, 'exit');
  workers.push(await startOrchestrator(env));

  const result = (await handle.result()) as ReplayResult;
  assert.equal(result.verdict, 'Passed');
  assert.equal(result.requests, 60);
  // Re-attached, not restarted: each recorded request reached the app exactly once.
  for (let i = 1; i <= 60; i++) assert.equal(bed.app.hits.get(`/items/${i}`), 1, `/items/${i}`);
  for (const pid of pids) assert.equal(await isAlive(pid), false, `pid ${pid} is still running`);
  await assert.rejects(readdir(folder), 'the run folder is removed');
});
