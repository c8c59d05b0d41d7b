import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FsSnapshotStore } from '../../src/store/fs-store.js';
import { projectRoot } from '../helpers/cli.js';
import { observed, pairs, startTarget, tempDir, type Target } from './helpers.js';

const workerJs = path.join(projectRoot, 'dist/workers/generator.js');

interface Run {
  code: number | null;
  lines: Record<string, unknown>[];
  stderr: string;
}

function runWorker(
  args: string[],
  onLine?: (line: Record<string, unknown>, kill: () => void) => void,
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [workerJs, ...args], {
      env: { ...process.env, REPRISE_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: Record<string, unknown>[] = [];
    let buf = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      buf += c.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = JSON.parse(buf.slice(0, nl)) as Record<string, unknown>;
        buf = buf.slice(nl + 1);
        lines.push(line);
        onLine?.(line, () => child.kill('SIGTERM'));
      }
    });
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, lines, stderr }));
  });
}

describe('generator process (workers/generator.js)', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let target: Target;
  const snapshotId = 'snap-gen-worker';
  before(async () => {
    tmp = await tempDir();
    target = await startTarget();
    const writer = await new FsSnapshotStore(tmp.dir).createWriter({
      id: snapshotId,
      service: 'orders',
      source: 'capture',
    });
    for (const p of pairs(40)) await writer.append(p);
    await writer.seal();
  });
  after(async () => {
    await target.close();
    await tmp.remove();
  });

  const base = () => ['--snapshot', snapshotId, '--home', tmp.dir, '--target', target.url];

  it('replays a snapshot, printing progress about once a second and a done line with the summary', async () => {
    const out = path.join(tmp.dir, 'replays/r1/observed.ndjson.gz');
    const config = path.join(tmp.dir, 'config.yaml');
    await writeFile(
      config,
      'load:\n  connections: 2\ntransforms:\n  - type: header\n    name: x-replay\n    value: "yes"\n',
    );
    const before = target.arrivals.length;
    const run = await runWorker([
      ...base(),
      '--out',
      out,
      '--config',
      config,
      '--rate',
      '25',
      '--passes',
      '2',
    ]);
    assert.equal(run.code, 0, run.stderr);
    const progress = run.lines.filter((l) => l.event === 'progress');
    const done = run.lines.at(-1) as {
      event: string;
      summary: { requests: number; passes: number; canceled: boolean };
    };
    // 80 requests at 25/s: a little over 3 s.
    assert.ok(progress.length >= 2 && progress.length <= 5, `${progress.length} progress lines`);
    assert.deepEqual(Object.keys(progress[0]).sort(), [
      'done',
      'elapsedMs',
      'errors',
      'event',
      'passes',
      'sent',
      'timeouts',
    ]);
    assert.equal(done.event, 'done');
    assert.equal(done.summary.requests, 80);
    assert.equal(done.summary.passes, 2);
    assert.equal(done.summary.canceled, false);
    const arrived = target.arrivals.slice(before);
    assert.equal(arrived.length, 80);
    assert.ok(
      arrived.every((a) => a.headers['x-replay'] === 'yes'),
      'transforms from the config file',
    );
    assert.equal((await observed(out)).length, 80);
  });

  it('stops on SIGTERM and still prints done, with canceled: true', async () => {
    const out = path.join(tmp.dir, 'replays/r2/observed.ndjson.gz');
    let killed = false;
    const run = await runWorker(
      [...base(), '--out', out, '--duration', '60s', '--rate', '50'],
      (line, kill) => {
        if (line.event === 'progress' && !killed) {
          killed = true;
          kill();
        }
      },
    );
    assert.equal(run.code, 0, run.stderr);
    const done = run.lines.at(-1) as {
      event: string;
      summary: { canceled: boolean; requests: number; durationMs: number };
    };
    assert.equal(done.event, 'done');
    assert.equal(done.summary.canceled, true);
    // Stopped by the signal, long before the 60 s duration (3,000 requests at 50/s) ran out.
    assert.ok(done.summary.durationMs < 60_000, `ran ${done.summary.durationMs} ms`);
    assert.ok(done.summary.requests > 0 && done.summary.requests < 1000);
    assert.equal((await observed(out)).length, done.summary.requests);
  });

  for (const [args, flag] of [
    [['--rate', 'abc'], '--rate'],
    [['--speed', 'fast'], '--speed'],
    [['--connections', '0'], '--connections'],
    [['--duration', 'soon'], '--duration'],
    [['--rate', '10', '--speed', '2x'], '--speed'],
    [['--bogus', '1'], '--bogus'],
    [['--target', 'ftp://x'], '--target'],
  ] as const) {
    it(`exits 2 naming ${flag} for ${args.join(' ')}`, async () => {
      const run = await runWorker([...base(), '--out', path.join(tmp.dir, 'x.ndjson.gz'), ...args]);
      assert.equal(run.code, 2);
      assert.match(run.stderr, new RegExp(flag.replace(/-/g, '\\-')));
    });
  }

  it('exits 2 naming --snapshot when the snapshot does not exist, and --out when it is missing', async () => {
    const missing = await runWorker([
      '--snapshot',
      'snap-nope',
      '--home',
      tmp.dir,
      '--target',
      target.url,
      '--out',
      path.join(tmp.dir, 'y.ndjson.gz'),
    ]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--snapshot: .*snap-nope/);
    const noOut = await runWorker(base());
    assert.equal(noOut.code, 2);
    assert.match(noOut.stderr, /--out: required/);
  });
});
