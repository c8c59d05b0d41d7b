/**
 * The CLI's log file (real files in a temporary REPRISE_HOME): opened only when something is
 * logged, one file a day with a header per run, rotated past its size bound, old days pruned;
 * and how a thrown error is classified (usage, failure, bug) before it is printed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, stat, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CommandLogFile, LOG_DAYS_KEPT, LOG_FILE_MAX_BYTES, logsDir } from '../../cli/log-file.js';
import { describeFailure } from '../../cli/failures.js';
import { CliError, UsageError } from '../../cli/errors.js';
import { HarFormatError } from '../../src/har/index.js';

const DAY = 24 * 60 * 60 * 1000;
const day = (d: Date) => d.toISOString().slice(0, 10);

function collector() {
  const lines: string[] = [];
  return { lines, write: (l: string) => lines.push(l) };
}

test('nothing logged, nothing created; the first line opens the day file after a header naming the run', async () => {
  const home = await mkdtemp(path.join(tmpdir(), 'reprise-logfile-'));
  const now = new Date('2026-12-03T10:00:00Z');
  const log = new CommandLogFile(
    home,
    { msg: 'reprise replay x', argv: ['replay', 'x'] },
    collector(),
    false,
    now,
  );
  await assert.rejects(stat(logsDir(home)), { code: 'ENOENT' });
  log.write('{"level":40,"msg":"Activity failed"}\n');
  log.record(50, 'replay failed', { workflowId: 'replay-1' });
  assert.equal(log.path, path.join(home, 'logs', 'reprise-2026-12-03.log'));
  assert.equal(log.lines, 2);
  const lines = (await readFile(log.path, 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(lines[0].argv, ['replay', 'x']);
  assert.equal(lines[0].pid, process.pid);
  assert.equal(lines[1].msg, 'Activity failed');
  assert.equal(lines[2].workflowId, 'replay-1');
});

test('days older than the kept ones are removed; other files stay', async () => {
  const home = await mkdtemp(path.join(tmpdir(), 'reprise-logfile-prune-'));
  const now = new Date('2026-12-03T10:00:00Z');
  await mkdir(logsDir(home));
  const old = day(new Date(now.getTime() - LOG_DAYS_KEPT * DAY));
  const kept = day(new Date(now.getTime() - (LOG_DAYS_KEPT - 1) * DAY));
  for (const name of [`reprise-${old}.log`, `reprise-${old}.1.log`, `reprise-${kept}.log`, 'notes.txt']) {
    await writeFile(path.join(logsDir(home), name), 'x\n');
  }
  new CommandLogFile(home, { msg: 'reprise up' }, collector(), false, now).write('{"msg":"one"}');
  assert.deepEqual((await readdir(logsDir(home))).sort(), [
    'notes.txt',
    `reprise-${kept}.log`,
    'reprise-2026-12-03.log',
  ]);
});

test('past its size bound the file is renamed .1.log and a new one starts', async () => {
  const home = await mkdtemp(path.join(tmpdir(), 'reprise-logfile-rotate-'));
  const log = new CommandLogFile(home, { msg: 'reprise up' }, collector());
  const line = JSON.stringify({ msg: 'x'.repeat(64 * 1024) });
  const count = Math.ceil(LOG_FILE_MAX_BYTES / line.length) + 3;
  for (let i = 0; i < count; i++) log.write(line);
  const rotated = log.path.replace(/\.log$/, '.1.log');
  assert.ok((await stat(rotated)).size <= LOG_FILE_MAX_BYTES);
  const current = (await stat(log.path)).size;
  assert.ok(current > 0 && current < 8 * line.length, `current file ${current} bytes`);
  assert.equal(log.lines, count);
});

test('a log file that cannot be written sends its lines to the fallback instead', async () => {
  const home = await mkdtemp(path.join(tmpdir(), 'reprise-logfile-blocked-'));
  await writeFile(logsDir(home), 'a file where the folder should be');
  const fallback = collector();
  const log = new CommandLogFile(home, { msg: 'reprise replay' }, fallback);
  log.write('{"msg":"kept"}\n');
  assert.match(log.unavailable ?? '', /EEXIST|ENOTDIR/);
  assert.deepEqual(fallback.lines, ['{"msg":"kept"}\n']);
});

test('errors are classified: usage (2), failures of input or world (1), bugs (1, with a stack)', () => {
  assert.deepEqual(describeFailure(new UsageError('--rate: expected a number')), {
    message: '--rate: expected a number',
    exitCode: 2,
    kind: 'usage',
  });
  assert.equal(describeFailure(new CliError('snapshot "x" not found')).kind, 'failure');
  assert.deepEqual(describeFailure(new HarFormatError('log.entries', 'expected an array of entries')), {
    message: 'log.entries: expected an array of entries',
    exitCode: 1,
    kind: 'failure',
  });
  const denied = Object.assign(new Error("EACCES: permission denied, open '/x'"), {
    code: 'EACCES',
    path: '/x',
  });
  assert.equal(describeFailure(denied).message, '/x: permission denied');
  assert.equal(
    describeFailure(new TypeError("Cannot read properties of undefined (reading 'id')")).kind,
    'bug',
  );
  assert.equal(describeFailure(new Error('something odd')).kind, 'unexpected');
});
