/**
 * The mistakes a user makes, through the real bin, with no Temporal anywhere: each is one line
 * on stderr naming the file, field, flag or address and what was expected; exit 2 for usage, 1
 * for the rest; never a stack trace. A missing snapshot fails before any server starts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/temporal/dev-server.js';
import { assertOneLine, plainUserEnv, runCli } from '../helpers/cli.js';
import { writeItemsSnapshot } from '../helpers/replay-fixtures.js';
import { recordTemporalRuns, type TemporalRecorder } from '../helpers/temporal-recorder.js';

let home: string;
let snapshotId: string;
let busy: Server;
let busyPort: number;
let recorder: TemporalRecorder;
const file = (name: string) => path.join(home, name);
/** No server to find: no TEMPORAL_ADDRESS, no `reprise up`; sentences, not JSON. */
const env = (extra: NodeJS.ProcessEnv = {}) => plainUserEnv(home, { PATH: recorder.PATH, ...extra });

before(async () => {
  home = await mkdtemp(path.join(tmpdir(), 'reprise-cli-mistakes-'));
  snapshotId = await writeItemsSnapshot(home, 2);
  recorder = await recordTemporalRuns();
  busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, resolve));
  busyPort = (busy.address() as { port: number }).port;
  await writeFile(file('no-entries.har'), JSON.stringify({ log: { version: '1.2' } }));
  await writeFile(file('broken.yaml'), 'load: rate: 5\n');
  await writeFile(file('invalid.yaml'), 'load:\n  rate: fast\n');
});

after(() => busy?.close());

/** [what a user types, exit code, the line it must read as]. */
const cases: [() => string[], number, () => RegExp][] = [
  [
    () => ['snapshot', 'import', file('no-entries.har')],
    1,
    () => /no-entries\.har: log\.entries: expected an array of entries; expected a HAR 1\.2 file$/,
  ],
  [
    () => ['snapshot', 'import', file('missing.har')],
    1,
    () => /missing\.har: no such file; expected a HAR 1\.2 file$/,
  ],
  [
    () => ['snapshot', 'show', 'snap-nope'],
    1,
    () => /^reprise: snapshot "snap-nope" not found in .*snapshots \(see `reprise snapshot ls`\)$/,
  ],
  [
    () => ['snapshot', 'rm', '../escape'],
    2,
    () => /^reprise: ID: expected an id of letters.*got "\.\.\/escape" \(see `reprise snapshot rm --help`\)$/,
  ],
  [
    () => ['snapshot', 'export', snapshotId, '--har', '-o', file('no/such/dir/x.har')],
    1,
    () => /-o .*x\.har: cannot write there \(its directory does not exist\)$/,
  ],
  [() => ['snapshot'], 2, () => /^reprise: snapshot: expected a sub-command: ls, show, import, export, rm/],
  [
    () => ['snapshot', 'frobnicate'],
    2,
    () => /^reprise: unknown command 'frobnicate' \(see `reprise snapshot --help`\)$/,
  ],
  [
    () => ['report', 'show', 'replay-nope'],
    1,
    () => /^reprise: no replay "replay-nope" in .*replays \(see `reprise replay ls`\)$/,
  ],
  [() => ['report', 'show'], 2, () => /^reprise: missing the ID argument/],
  [
    () => ['capture', '--app-port', '8080', '--out-port', '-1'],
    2,
    () => /^reprise: --out-port: expected a TCP port number between 1 and 65535, got "-1"/,
  ],
  [
    () => ['capture'],
    2,
    () =>
      /^reprise: missing the required option --app-port <port>, or --workload deploy\/NAME for a cluster workload \(see `reprise capture --help`\)$/,
  ],
  [
    () => ['capture', '--app-port', '8080', '--no-outbound', '--out-port', '5000'],
    2,
    () => /--no-outbound cannot be used with option --out-port/,
  ],
  [
    () => ['capture', '--app-port', '8080', '--no-outbound', '--tls-intercept'],
    2,
    () => /--no-outbound cannot be used with option --tls-intercept/,
  ],
  [
    () => ['capture', '--app-port', '8080', '--duration', '5x'],
    2,
    () => /^reprise: --duration: expected a duration such as 30s, 5m or 1h, got "5x"/,
  ],
  [
    () => ['capture', '--app-port', '8080', '--duration', '0s'],
    2,
    () => /^reprise: invalid capture: --duration \(duration\): expected a duration above 0/,
  ],
  [
    () => ['capture', '--app-port', '8080', '--filters', file('broken.yaml')],
    2,
    () => /^reprise: --filters .*broken\.yaml: not valid JSON or YAML: .*line 1/,
  ],
  [
    () => ['capture', '--app-port', '8080', '--dlp', file('none.yaml')],
    2,
    () => /^reprise: --dlp .*none\.yaml: no such file/,
  ],
  [
    () => ['capture', '--app-port', '8080', '--in-port', String(busyPort)],
    1,
    () => new RegExp(`^reprise: --in-port ${busyPort}: the port is in use; choose another one`),
  ],
  [
    () => ['replay'],
    2,
    () => /^reprise: missing the SNAPSHOT argument: a snapshot id from `reprise snapshot ls`/,
  ],
  [
    () => ['replay', snapshotId, '--target', 'not a url', '--app', 'node app.js'],
    2,
    () => /^reprise: invalid replay: --target \(target\.url\): expected an http:\/\/ or https:\/\/ URL/,
  ],
  [
    // --app starts the service; where it listens is still the user's to say.
    () => ['replay', snapshotId, '--app', 'python3 app.py'],
    2,
    () => /^reprise: invalid replay: --target \(target\.url\): required unless mode is responder-only/,
  ],
  [
    () => ['replay', snapshotId, '--target', 'http://127.0.0.1:9', '--config', file('broken.yaml')],
    2,
    () => /^reprise: --config .*broken\.yaml: not valid JSON or YAML: .*line 1/,
  ],
  [
    () => ['replay', snapshotId, '--target', 'http://127.0.0.1:9', '--config', file('invalid.yaml')],
    2,
    () => /^reprise: invalid replay: load\.rate \(in .*invalid\.yaml\): .*expected number/,
  ],
  [
    () => ['replay', snapshotId, '--mode', 'sideways'],
    2,
    () => /^reprise: --mode: expected one of full-replay, generator-only, responder-only, got "sideways"/,
  ],
  [
    () => ['replay', snapshotId, '--rate', '5', '--speed', '2x'],
    2,
    () => /^reprise: option --rate cannot be used with option --speed/,
  ],
  [
    () => ['replay', snapshotId, '--connections', '0'],
    2,
    () => /^reprise: --connections: expected a positive integer, got "0"/,
  ],
  [() => ['replay', snapshotId, '--target'], 2, () => /^reprise: --target: missing its value/],
  [
    () => ['replay', 'ls', 'extra'],
    2,
    () => /^reprise: too many arguments: expected 0, got 1 \(see `reprise replay ls --help`\)$/,
  ],
  [() => ['replay', 'ls', '--bogus'], 2, () => /^reprise: unknown option --bogus/],
  [
    () => ['schedule', 'pause', 'nightly'],
    1,
    () => /^reprise: schedules live in a Temporal server that keeps running.*`reprise up`.*TEMPORAL_ADDRESS$/,
  ],
  [
    () => [
      'schedule',
      'create',
      '--snapshot',
      'snap-nope',
      '--target',
      'http://127.0.0.1:9',
      '--cron',
      '0 * * * *',
    ],
    1,
    () => /^reprise: snapshot "snap-nope" not found/,
  ],
  [
    () => ['up', '--port', String(busyPort)],
    1,
    () => new RegExp(`^reprise: --port ${busyPort}: the port is in use`),
  ],
  [
    () => ['up', '--port', '8000', '--ui-port', '8000'],
    2,
    () => /^reprise: --port and --ui-port must differ/,
  ],
  [() => ['frobnicate'], 2, () => /^reprise: unknown command 'frobnicate' \(see `reprise --help`\)$/],
];

test('each user mistake reads as one line, with the right exit code and no stack trace', async () => {
  for (const [args, code, message] of cases) {
    const run = await runCli(args(), env());
    assertOneLine(run, code, message(), `reprise ${args().join(' ')}`);
  }
  // None of them started a Temporal server (or even looked for the binary).
  assert.deepEqual(await recorder.calls(), []);
});

test('a missing snapshot fails before any Temporal server starts, and leaves no log behind', async () => {
  const fresh = await mkdtemp(path.join(tmpdir(), 'reprise-cli-nosnap-'));
  const run = await runCli(
    ['replay', 'snap-nope', '--target', 'http://127.0.0.1:9'],
    env({ REPRISE_HOME: fresh }),
  );
  assertOneLine(
    run,
    1,
    /^reprise: snapshot "snap-nope" not found in .*snapshots \(see `reprise snapshot ls`\)$/,
  );
  assert.deepEqual(await recorder.calls(), [], 'the temporal binary ran');
  assert.doesNotMatch(run.stderr, /embedded Temporal/);
  await assert.rejects(stat(path.join(fresh, 'logs')), { code: 'ENOENT' });
});

test('an unreachable TEMPORAL_ADDRESS is one line naming the address and what to do', async () => {
  const port = await freePort();
  const run = await runCli(['schedule', 'ls'], env({ TEMPORAL_ADDRESS: `127.0.0.1:${port}` }));
  assertOneLine(
    run,
    1,
    new RegExp(
      `^reprise: cannot reach Temporal at 127\\.0\\.0\\.1:${port} \\(TEMPORAL_ADDRESS\\): .*unset it`,
    ),
  );
});

test('--log-json and REPRISE_LOG_JSON=1 turn the messages into JSON lines', async () => {
  const flagged = await runCli(['snapshot', 'show', 'snap-nope', '--log-json'], env());
  assert.equal(flagged.code, 1);
  const line = JSON.parse(flagged.stderr);
  assert.equal(line.level, 50);
  assert.equal(line.component, 'cli');
  assert.equal(line.exitCode, 1);
  assert.match(line.msg, /^snapshot "snap-nope" not found/);

  const usage = await runCli(['capture', '--app-port', 'x'], env({ REPRISE_LOG_JSON: '1' }));
  assert.equal(usage.code, 2);
  assert.match(JSON.parse(usage.stderr).msg, /^--app-port: expected a TCP port number/);
});

test('--debug prints the stack trace a mistake otherwise hides', async () => {
  const run = await runCli(['snapshot', 'show', 'snap-nope', '--debug'], env());
  assert.equal(run.code, 1);
  assert.match(run.stderr, /^reprise: snapshot "snap-nope" not found/);
  assert.match(run.stderr, /^\s+at /m);
});
