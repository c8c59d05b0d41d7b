/**
 * A replay that fails inside the embedded Temporal (the app it starts never answers): the
 * terminal gets sentences and one failure line with the workflow id and the log file's path;
 * the Temporal SDK's failure logs and their stack traces go to that file, not to stderr.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/temporal/dev-server.js';
import { runCli } from '../helpers/cli.js';
import { writeItemsSnapshot } from '../helpers/replay-fixtures.js';
import { recordTemporalRuns } from '../helpers/temporal-recorder.js';

test('a failing replay prints one line and the log path; the SDK detail is in the log file', async () => {
  const home = await mkdtemp(path.join(tmpdir(), 'reprise-cli-embedded-fail-'));
  const snapshotId = await writeItemsSnapshot(home, 3);
  const recorder = await recordTemporalRuns();
  const config = path.join(home, 'quick.yaml');
  await writeFile(config, 'target:\n  app:\n    readyTimeout: 1s\n');
  const target = `http://127.0.0.1:${await freePort()}`;
  const run = await runCli(
    [
      'replay',
      snapshotId,
      '--target',
      target,
      '--app',
      `node -e "process.exit(3)"`,
      '--config',
      config,
      '--json',
    ],
    {
      REPRISE_HOME: home,
      TEMPORAL_ADDRESS: '',
      TEMPORAL_NAMESPACE: '',
      REPRISE_LOG_JSON: '',
      PATH: recorder.PATH,
    },
  );
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
      `^reprise: replay ended in Error: target\\.app: the service did not answer on ${target}/ .*\\(workflow ${result.workflowId}\\)$`,
    ),
  );
  const logFile = /^reprise: details in (.+)$/m.exec(run.stderr)?.[1];
  assert.ok(logFile, run.stderr);
  assert.equal(path.dirname(logFile), path.join(home, 'logs'));

  // The file has what the terminal was spared: the SDK's activity failure with its stack, as JSON lines.
  const lines = (await readFile(logFile, 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.match(lines[0].msg, new RegExp(`^reprise replay ${snapshotId} `));
  const sdk = lines.find((l) => l.component === 'temporal-sdk' && l.msg === 'Activity failed');
  assert.ok(sdk, 'no SDK activity failure in the log');
  assert.equal(sdk.activityType, 'waitForTarget');
  assert.equal(sdk.workflowId, result.workflowId);
  assert.match(sdk.err.stack, /\n\s+at /);
  assert.ok(lines.some((l) => l.component === 'cli' && /^replay ended in Error/.test(l.msg)));
});
