/**
 * Warm standbys through the orchestrator as its own process (workers/orchestrator.ts): it
 * starts one responder and one generator standby before it says ready, a replay takes both
 * and new ones replace them, REPRISE_STANDBY=0 starts none (and replays still run), and no
 * standby outlives its worker, whether the worker stops on SIGTERM or is killed.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isAlive } from '../../activities/local/processes.js';
import { TASK_QUEUE } from '../../src/temporal/names.js';
import type { ReplayResult } from '../../src/config/replay.js';
import { waitFor } from '../workflows/loopback.js';
import { startOrchestrator } from '../helpers/orchestrator-process.js';
import { startReplayBed, writeItemsSnapshot, type ReplayBed } from '../helpers/replay-fixtures.js';
import { standbyPids, warmStandbyLogs, workerScript } from '../helpers/standbys.js';

const REQUESTS = 10;

describe('warm standbys of an orchestrator process', () => {
  let bed: ReplayBed;
  const homes: string[] = [];
  const workers: ChildProcess[] = [];

  before(async () => {
    bed = await startReplayBed();
  });
  after(async () => {
    for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
    await bed?.close();
    for (const home of homes) await rm(home, { recursive: true, force: true });
  });

  /** An orchestrator process with its own REPRISE_HOME holding a snapshot of REQUESTS items. */
  async function worker(env: NodeJS.ProcessEnv = {}) {
    const home = await mkdtemp(path.join(tmpdir(), 'reprise-standby-worker-'));
    homes.push(home);
    const snapshotId = await writeItemsSnapshot(home, REQUESTS);
    const child = await startOrchestrator({
      TEMPORAL_ADDRESS: bed.server.address,
      REPRISE_HOME: home,
      ...env,
    });
    workers.push(child);
    return { home, snapshotId, child };
  }

  async function replay(snapshotId: string, name: string): Promise<ReplayResult> {
    return (await bed.client.workflow.execute('replayWorkflow', {
      taskQueue: TASK_QUEUE,
      workflowId: `${name}-${Date.now()}`,
      args: [{ snapshotId, target: { url: bed.app.url }, load: { rate: 100, connections: 2 } }],
    })) as ReplayResult;
  }

  /** Waits until no standby of `home` is left (they are ended, or end on their own). */
  const noneLeft = (home: string) =>
    waitFor(`no standby of ${home}`, async () => (await standbyPids(home)).length === 0);

  it('a replay takes both standbys, new ones replace them, and SIGTERM leaves none', async () => {
    const { home, snapshotId, child } = await worker();
    // Started before the ready line.
    const responder = await standbyPids(home, workerScript('responder'));
    const generator = await standbyPids(home, workerScript('generator'));
    assert.equal(responder.length, 1, 'one responder standby');
    assert.equal(generator.length, 1, 'one generator standby');

    // Loaded (and the responder's TLS key made): each says so in its own log.
    const warm = await waitFor('both standbys warm', async () => {
      const logs = await warmStandbyLogs(home);
      return logs.length === 2 ? logs : undefined;
    });
    assert.match(warm.join(' '), /^generator-\S+ responder-\S+$/);

    const result = await replay(snapshotId, 'standby-taken');
    assert.equal(result.verdict, 'Passed');
    assert.equal(result.requests, REQUESTS);
    // Taken by the replay, which ended them at its teardown (an idle standby is never stopped).
    for (const pid of [...responder, ...generator]) assert.equal(await isAlive(pid), false, `pid ${pid}`);
    const replaced = await waitFor('new standbys', async () => {
      const pids = await standbyPids(home);
      return pids.length === 2 ? pids : undefined;
    });
    assert.ok(replaced.every((pid) => !responder.includes(pid) && !generator.includes(pid)));

    child.kill('SIGTERM');
    assert.deepEqual(await once(child, 'exit'), [0, null]);
    await noneLeft(home);
  });

  it('standbys end when their worker is killed', async () => {
    const { home, child } = await worker();
    assert.equal((await standbyPids(home)).length, 2);
    child.kill('SIGKILL');
    await once(child, 'exit');
    // Their stdin is a pipe from the worker: its end is theirs.
    await noneLeft(home);
  });

  it('REPRISE_STANDBY=0 starts none, and a replay starts its processes afresh', async () => {
    const { home, snapshotId, child } = await worker({ REPRISE_STANDBY: '0' });
    assert.deepEqual(await standbyPids(home), []);
    const result = await replay(snapshotId, 'standby-off');
    assert.equal(result.verdict, 'Passed');
    assert.equal(result.requests, REQUESTS);
    assert.deepEqual(await standbyPids(home), [], 'none started after the replay either');
    child.kill('SIGTERM');
    await once(child, 'exit');
  });
});
