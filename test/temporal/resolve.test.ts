/**
 * Which Temporal a command uses: TEMPORAL_ADDRESS, then `reprise up`'s server, then an
 * embedded dev server with an in-process worker. Real dev servers throughout.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { tryConnect } from '../../src/temporal/connect.js';
import { startDevServer } from '../../src/temporal/dev-server.js';
import { SEARCH_ATTRIBUTES, TASK_QUEUE } from '../../src/temporal/names.js';
import { resolveTemporal } from '../../cli/resolve-temporal.js';
import { clearUpState, readUpState, writeUpState } from '../../src/temporal/up-state.js';
import { captureWorkflow } from '../../workflows/capture.js';
import { startTemporal } from '../workflows/harness.js';

describe('resolveTemporal', () => {
  let home: string;
  before(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'reprise-resolve-'));
  });
  after(() => rm(home, { recursive: true, force: true }));

  describe('with a server of its own (TEMPORAL_ADDRESS)', () => {
    let bare: TestWorkflowEnvironment;
    // A server started without Reprise's search attributes, as a user's would be.
    before(async () => {
      bare = await startTemporal();
    });
    after(() => bare?.teardown());

    it('connects, starts nothing, and registers the missing search attributes', async () => {
      const addr = bare.address;
      const t = await resolveTemporal({ home, env: { TEMPORAL_ADDRESS: addr } });
      try {
        assert.equal(t.embedded, false);
        assert.equal(t.address, addr);
        assert.equal(t.namespace, 'default');
        const { customAttributes } = await t.connection.operatorService.listSearchAttributes({
          namespace: 'default',
        });
        for (const key of SEARCH_ATTRIBUTES)
          assert.ok(customAttributes?.[key.name], `${key.name} registered`);
      } finally {
        await t.close();
      }
    });
  });

  it('fails with the variable named when TEMPORAL_ADDRESS does not answer', async () => {
    await assert.rejects(
      resolveTemporal({ home, env: { TEMPORAL_ADDRESS: '127.0.0.1:1' } }),
      /cannot reach Temporal at 127\.0\.0\.1:1 \(TEMPORAL_ADDRESS\)/,
    );
  });

  it('uses the server recorded by `reprise up` while it answers', async () => {
    const server = await startDevServer({ headless: true });
    try {
      await writeUpState(home, {
        address: server.address,
        namespace: server.namespace,
        pid: server.pid,
        uiUrl: 'http://127.0.0.1:1',
      });
      const t = await resolveTemporal({ home, env: {} });
      assert.equal(t.embedded, false);
      assert.equal(t.address, server.address);
      assert.equal(t.uiUrl, 'http://127.0.0.1:1');
      await t.close();
    } finally {
      await server.stop();
      await clearUpState(home, server.pid);
    }
    assert.equal(await readUpState(home), undefined);
  });

  it('otherwise starts an embedded server and worker for the command, and stops them on close', async () => {
    // A stale up.json (its process is gone) must be ignored.
    const gone = spawnSync(process.execPath, ['-e', '0']).pid!;
    await writeUpState(home, { address: '127.0.0.1:1', namespace: 'default', pid: gone });
    const started = Date.now();
    const t = await resolveTemporal({ home, env: {} });
    console.log(`# embedded server + worker ready in ${Date.now() - started} ms`);
    try {
      assert.equal(t.embedded, true);
      assert.equal(t.uiUrl, undefined);
      // The in-process worker answers: a bad input fails at once, for good.
      const handle = await t.client.workflow.start(captureWorkflow, {
        taskQueue: TASK_QUEUE,
        workflowId: 'embedded-check',
        args: [{ target: { appPort: 0 } }],
      });
      const err = await handle.result().catch((e: unknown) => e);
      assert.ok(err instanceof WorkflowFailedError && err.cause instanceof ApplicationFailure);
      assert.match(err.cause.message, /target\.appPort/);
    } finally {
      await t.close();
    }
    assert.equal(await tryConnect({ address: t.address, namespace: 'default' }, 500), undefined);
  });
});
