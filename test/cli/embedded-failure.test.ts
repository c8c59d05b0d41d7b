/**
 * A replay that fails inside the embedded Temporal (the app it starts never answers): the
 * terminal gets sentences and one failure line with the workflow id and the log file's path;
 * the Temporal SDK's failure logs and their stack traces go to that file, not to stderr.
 * Under `reprise up`, the line names the run's Web UI page and `reprise up`'s log file. An app
 * that exits with a failure ends the wait at once, its exit code and last line named; one that
 * exits 0 (a launcher that may have started the service in the background) is waited for.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/temporal/dev-server.js';
import { plainUserEnv, repriseBin, runCli } from '../helpers/cli.js';
import { writeItemsSnapshot } from '../helpers/replay-fixtures.js';
import { recordTemporalRuns } from '../helpers/temporal-recorder.js';

/** The app of a failing replay: it exits at once with code 3 after one line on stderr. */
const CRASHING_APP = `node -e "console.error('boom: no config'); process.exit(3)"`;

/** A replay whose app never answers; waitForTarget gives up after 1 s (or when the app fails). */
async function failingReplay(home: string, snapshotId: string, env: NodeJS.ProcessEnv, app: string) {
  const config = path.join(home, 'quick.yaml');
  await writeFile(config, 'target:\n  app:\n    readyTimeout: 1s\n');
  const target = `http://127.0.0.1:${await freePort()}`;
  const args = ['replay', snapshotId, '--target', target, '--app', app];
  const run = await runCli([...args, '--config', config, '--json'], plainUserEnv(home, env));
  return { run, target };
}

const jsonLines = async (file: string) =>
  (await readFile(file, 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown> & { msg: string });

test('a failing replay prints one line and the log path; the SDK detail is in the log file', async () => {
  const home = await mkdtemp(path.join(tmpdir(), 'reprise-cli-embedded-fail-'));
  const snapshotId = await writeItemsSnapshot(home, 3);
  const recorder = await recordTemporalRuns();
  const { run, target } = await failingReplay(home, snapshotId, { PATH: recorder.PATH }, CRASHING_APP);
  assert.equal(run.code, 1, run.stderr);
  // The result is still printed, for scripts.
  const result = JSON.parse(run.stdout);
  assert.equal(result.verdict, 'Error');

  // It did run a server of its own: the observable the missing-snapshot test relies on works.
  assert.ok(
    (await recorder.calls()).some((c) => c.startsWith('server start-dev')),
    'no `temporal server start-dev`',
  );
  // stderr: sentences (stderr is a pipe, yet no JSON), no stack trace, one failure line.
  assert.doesNotMatch(run.stderr, /^\s+at /m);
  assert.doesNotMatch(run.stderr, /^\{/m);
  assert.doesNotMatch(run.stderr, /Activity failed|ApplicationFailure/);
  assert.match(
    run.stderr,
    /^no TEMPORAL_ADDRESS and no `reprise up` server: started an embedded Temporal dev server/m,
  );
  const failures = run.stderr.split('\n').filter((l) => l.startsWith('reprise: replay'));
  assert.equal(failures.length, 1, run.stderr);
  assert.match(
    failures[0],
    new RegExp(
      `^reprise: replay ended in Error: target\\.app: the app exited with code 3 before it answered on ${target}/; ` +
        `its last line: "boom: no config" \\(workflow ${result.workflowId}\\)$`,
    ),
  );
  const logFile = /^reprise: details in (.+)$/m.exec(run.stderr)?.[1];
  assert.ok(logFile, run.stderr);
  assert.equal(path.dirname(logFile), path.join(home, 'logs'));

  // The file has what the terminal was spared: the SDK's activity failure with its stack, as JSON lines.
  const lines = await jsonLines(logFile);
  assert.match(lines[0].msg, new RegExp(`^reprise replay ${snapshotId} `));
  const sdk = lines.find((l) => l.component === 'temporal-sdk' && l.msg === 'Activity failed');
  assert.ok(sdk, 'no SDK activity failure in the log');
  assert.equal(sdk.activityType, 'waitForTarget');
  assert.equal(sdk.workflowId, result.workflowId);
  assert.match((sdk.err as { stack: string }).stack, /\n\s+at /);
  assert.ok(lines.some((l) => l.component === 'cli' && /^replay ended in Error/.test(l.msg)));
});

test("under `reprise up` the failure names the run's Web UI page and up's log file", async () => {
  const home = await mkdtemp(path.join(tmpdir(), 'reprise-cli-up-fail-'));
  const snapshotId = await writeItemsSnapshot(home, 3);
  const recorder = await recordTemporalRuns();
  const [port, uiPort] = [await freePort(), await freePort()];
  const env = plainUserEnv(home, { PATH: recorder.PATH });
  const up = spawn(
    process.execPath,
    [repriseBin, 'up', '--port', String(port), '--ui-port', String(uiPort)],
    {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let upErr = '';
  const exited = once(up, 'exit');
  try {
    await new Promise<void>((resolve, reject) => {
      up.stderr.on('data', (c: Buffer) => {
        upErr += c.toString();
        if (upErr.includes('Ctrl-C to stop')) resolve();
      });
      up.once('exit', () => reject(new Error(`reprise up exited: ${upErr}`)));
    });
    const upLog = /logging to (\S+); Ctrl-C/.exec(upErr)?.[1];
    assert.ok(upLog, upErr);

    // Exit 0: it may have started the service in the background, so the wait runs to its end.
    const { run, target } = await failingReplay(
      home,
      snapshotId,
      { PATH: recorder.PATH },
      'node -e "process.exit(0)"',
    );
    assert.equal(run.code, 1, run.stderr);
    const { workflowId } = JSON.parse(run.stdout);
    assert.doesNotMatch(run.stderr, /embedded/);
    assert.doesNotMatch(run.stderr, /^\s+at /m);
    const page = `http://127.0.0.1:${uiPort}/namespaces/default/workflows/${workflowId}`;
    assert.match(
      run.stderr,
      new RegExp(
        `^reprise: replay ended in Error: target\\.app: the service did not answer on ${target}/ within 1000 ms.*` +
          `\\(workflow ${workflowId}, ${page}\\)$`,
        'm',
      ),
    );
    assert.match(run.stderr, new RegExp(`^reprise: details in ${upLog}$`, 'm'));
    const sdk = (await jsonLines(upLog)).find(
      (l) => l.msg === 'Activity failed' && l.workflowId === workflowId,
    );
    assert.ok(sdk, "the activity failure is not in up's log");
    // One server in all: up's.
    assert.equal((await recorder.calls()).filter((c) => c.startsWith('server start-dev')).length, 1);
  } finally {
    up.kill('SIGINT');
    await exited;
  }
  assert.match(upErr, /stopping/);
  await assert.rejects(readFile(path.join(home, 'up.json')), { code: 'ENOENT' });
});
