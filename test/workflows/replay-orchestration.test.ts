/**
 * replayWorkflow's orchestration on a real Temporal dev server and the production worker, with
 * a ReplayRuntime double (nothing is started): the order of set-up and teardown for each kind
 * of target and mode, cancellation while each part starts or runs (through Temporal, and
 * through the cancel signal the operator sends), the replay's timeout, and failing steps. The
 * store, the analyzer and the report are the real ones.
 */
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import type { ObservedExchange } from '../../src/model/replay.js';
import type { Report } from '../../src/report/schema.js';
import { cancelReplaySignal, phaseQuery, replayWorkflow } from '../../workflows/replay.js';
import { writeItemsSnapshot } from '../helpers/replay-fixtures.js';
import { startHarness, TASK_QUEUE, workflowId, type WorkflowHarness } from './harness.js';
import { DOUBLE_URLS, ReplayRuntimeDouble, type ReplayStep } from './replay-runtime-double.js';

const ITEMS = 3;
/** What the app answers for the snapshot writeItemsSnapshot writes: every assertion passes. */
const observedItems = (n: number): ObservedExchange[] =>
  Array.from({ length: n }, (_, k) => {
    const data = JSON.stringify({ id: k + 1, name: `item ${k + 1}` });
    return {
      pairId: `pair-${k + 1}`,
      pass: 0,
      sentAt: new Date().toISOString(),
      latencyMs: 1,
      request: { method: 'GET', url: `${DOUBLE_URLS.app}/items/${k + 1}` },
      response: {
        status: 200,
        headers: [['content-type', 'application/json']],
        body: { encoding: 'utf8', data, size: data.length, truncated: false },
      },
    };
  });

/** The worker's REPRISE_HOME, where the double leaves what its generator observed. */
const home = mkdtempSync(path.join(tmpdir(), 'reprise-replay-double-'));
const runtime = new ReplayRuntimeDouble(home, observedItems(ITEMS));
let h: WorkflowHarness;
let snapshotId: string;

before(async () => {
  // A cancellation reaches a heartbeating activity within 100 ms instead of the SDK's 30 s.
  const throttle = '100 milliseconds';
  h = await startHarness({
    home,
    replayRuntime: runtime,
    heartbeatThrottle: { maxHeartbeatThrottleInterval: throttle, defaultHeartbeatThrottleInterval: throttle },
  });
  snapshotId = await writeItemsSnapshot(h.home, ITEMS);
});
after(async () => {
  await h?.close();
  await rm(home, { recursive: true, force: true });
});
beforeEach(() => runtime.reset());

const start = (input: Record<string, unknown>) =>
  h.client.workflow.start(replayWorkflow, {
    taskQueue: TASK_QUEUE,
    workflowId: workflowId('replay'),
    args: [{ snapshotId, ...input }],
  });

const WORKLOAD = { target: { workload: { name: 'orders', namespace: 'shop' } } };
const SETUP = ['startResponder', 'startCollector', 'startApp'] as const;
const UNDO: Record<(typeof SETUP)[number], ReplayStep> = {
  startResponder: 'stopResponder',
  startCollector: 'stopCollector',
  startApp: 'stopApp',
};
const ANALYSIS = ['responderStats', 'collectLogs'];

/** The teardown of what was begun, in reverse, then the cleanup. */
const teardownOf = (begun: readonly (typeof SETUP)[number][]) => [
  ...begun.map((s) => UNDO[s]).reverse(),
  'cleanup',
];

async function reportOf(reportPath: string): Promise<Report> {
  return JSON.parse(await readFile(path.join(path.dirname(reportPath), 'report.json'), 'utf8')) as Report;
}

describe('replayWorkflow set-up and teardown order', () => {
  it('a URL target: responder, collector, generator; analysis; teardown in reverse', async () => {
    const url = 'http://127.0.0.1:4999';
    const handle = await start({ target: { url } });
    const result = await handle.result();
    assert.deepEqual(runtime.steps(), [
      'startResponder',
      'startCollector',
      'runGenerator',
      ...ANALYSIS,
      'stopCollector',
      'stopResponder',
      'cleanup',
    ]);
    assert.equal((runtime.requests.get('runGenerator') as { targetUrl: string }).targetUrl, url);
    assert.equal(result.verdict, 'Passed');
    assert.equal(result.requests, ITEMS);
    assert.deepEqual(result.responder, { match: 7, noMatch: 1, passthrough: 0 });
    assert.equal(await handle.query(phaseQuery), 'Passed');
  });

  it('a workload: the app is routed to the responder it started, and replayed at the URL the runtime gave', async () => {
    const result = await (await start(WORKLOAD)).result();
    assert.deepEqual(runtime.steps(), [...SETUP, 'runGenerator', ...ANALYSIS, ...teardownOf(SETUP)]);
    const app = runtime.requests.get('startApp') as { responderUrl: string; workload: { name: string } };
    assert.equal(app.responderUrl, DOUBLE_URLS.responder);
    assert.equal(app.workload.name, 'orders');
    assert.equal((runtime.requests.get('runGenerator') as { targetUrl: string }).targetUrl, DOUBLE_URLS.app);
    assert.equal(result.verdict, 'Passed');
  });

  it('generator-only starts no responder and asks for no responder stats', async () => {
    const result = await (await start({ ...WORKLOAD, mode: 'generator-only' })).result();
    assert.deepEqual(runtime.steps(), [
      'startCollector',
      'startApp',
      'runGenerator',
      'collectLogs',
      'stopApp',
      'stopCollector',
      'cleanup',
    ]);
    assert.equal((runtime.requests.get('startApp') as { responderUrl?: string }).responderUrl, undefined);
    assert.deepEqual(result.responder, { match: 0, noMatch: 0, passthrough: 0 });
  });

  it('responder-only keeps the mocks up for responderDuration and runs no generator', async () => {
    const result = await (
      await start({ mode: 'responder-only', target: {}, responderDuration: '1s' })
    ).result();
    assert.deepEqual(runtime.steps(), [
      'startResponder',
      'startCollector',
      ...ANALYSIS,
      'stopCollector',
      'stopResponder',
      'cleanup',
    ]);
    assert.equal(result.verdict, 'Passed');
  });
});

describe('replayWorkflow cancelled at each phase', () => {
  for (const [i, phase] of [...SETUP, 'runGenerator' as const].entries()) {
    it(`cancelled while ${phase} runs: it stops first, then what was begun is undone in reverse`, async () => {
      runtime.holding = phase;
      const handle = await start(WORKLOAD);
      await runtime.reached(phase);
      assert.equal(await handle.query(phaseQuery), phase === 'runGenerator' ? 'Testing' : 'Initializing');
      await handle.cancel();
      const err = await handle.result().catch((e: unknown) => e);
      assert.ok(err instanceof WorkflowFailedError && err.cause instanceof CancelledFailure, String(err));
      const begun = SETUP.slice(0, i + 1);
      assert.deepEqual(runtime.steps(), [
        ...begun,
        ...(phase === 'runGenerator' ? ['runGenerator'] : []),
        `${phase} stopped`,
        ...ANALYSIS,
        ...teardownOf(begun),
      ]);
      assert.equal((await handle.describe()).status.name, 'CANCELLED');
      assert.equal(await handle.query(phaseQuery), 'Canceled');
    });
  }

  it('the cancel signal (a deleted TrafficReplay) ends the run as Canceled, with a report', async () => {
    runtime.holding = 'runGenerator';
    const handle = await start(WORKLOAD);
    await runtime.reached('runGenerator');
    await handle.signal(cancelReplaySignal);
    const result = await handle.result();
    assert.equal(result.verdict, 'Canceled');
    assert.deepEqual(runtime.steps(), [
      ...SETUP,
      'runGenerator',
      'runGenerator stopped',
      ...ANALYSIS,
      ...teardownOf(SETUP),
    ]);
    assert.equal((await reportOf(result.reportPath)).verdict, 'Canceled');
  });
});

describe('replayWorkflow timeout and failures', () => {
  for (const phase of ['runGenerator', 'startApp'] as const) {
    it(`the timeout stops a replay stuck in ${phase}, reports it as an Error, and tears down`, async () => {
      runtime.holding = phase;
      const result = await (await start({ ...WORKLOAD, timeout: '2s' })).result();
      assert.equal(result.verdict, 'Error');
      assert.match(
        (await reportOf(result.reportPath)).verdictReason,
        /timeout: the replay did not finish within 2s/,
      );
      const steps = runtime.steps();
      assert.deepEqual(steps.slice(steps.indexOf(`${phase} stopped`)), [
        `${phase} stopped`,
        ...ANALYSIS,
        ...teardownOf(SETUP),
      ]);
    });
  }

  it('a failing step ends the replay as an Error naming it, after undoing what was begun', async () => {
    runtime.failing = 'startApp';
    const result = await (await start(WORKLOAD)).result();
    assert.equal(result.verdict, 'Error');
    assert.match((await reportOf(result.reportPath)).verdictReason, /startApp refused/);
    assert.deepEqual(runtime.steps(), [...SETUP, ...ANALYSIS, ...teardownOf(SETUP)]);
  });

  it('a failing teardown step does not stop the rest of the teardown', async () => {
    runtime.failing = 'stopCollector';
    const result = await (await start(WORKLOAD)).result();
    assert.equal(result.verdict, 'Passed');
    assert.deepEqual(runtime.steps(), [...SETUP, 'runGenerator', ...ANALYSIS, ...teardownOf(SETUP)]);
  });

  it('a snapshot that does not exist fails the replay before anything starts', async () => {
    const handle = await h.client.workflow.start(replayWorkflow, {
      taskQueue: TASK_QUEUE,
      workflowId: workflowId('replay-nosnap'),
      args: [{ snapshotId: 'snap-missing', ...WORKLOAD }],
    });
    const err = await handle.result().catch((e: unknown) => e);
    assert.ok(err instanceof WorkflowFailedError, String(err));
    assert.match(
      String((err.cause?.cause as Error | undefined)?.message),
      /snapshotId: snapshot "snap-missing" not found/,
    );
    assert.deepEqual(runtime.events, []);
  });
});
