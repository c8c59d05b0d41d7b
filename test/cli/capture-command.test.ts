/**
 * `reprise capture` through the real bin with no TEMPORAL_ADDRESS and no `reprise up`: the
 * command starts its own dev server and worker (and says so), records real traffic, and
 * prints the contract's JSON object.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/temporal/dev-server.js';
import { FsSnapshotStore } from '../../src/store/fs-store.js';
import { repriseBin, runCli } from '../helpers/cli.js';
import { startCountingApp } from '../helpers/replay-fixtures.js';

test('capture --json records traffic with an embedded Temporal and prints the contract object', async () => {
  const home = await mkdtemp(path.join(tmpdir(), 'reprise-capture-cli-'));
  const app = await startCountingApp();
  const [inPort, outPort] = [await freePort(), await freePort()];
  const env = { ...process.env, NO_COLOR: '1', REPRISE_HOME: home, TEMPORAL_ADDRESS: '' };
  const args = [
    'capture',
    '--app-port',
    String(app.port),
    '--in-port',
    String(inPort),
    '--out-port',
    String(outPort),
  ];
  const child = spawn(
    process.execPath,
    [repriseBin, ...args, '--service', 'items', '--duration', '8s', '--json'],
    {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  const ready = new Promise<void>((resolve) =>
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
      if (stderr.includes('send traffic to')) resolve();
    }),
  );
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  await Promise.race([ready, exited]);
  assert.match(stderr, /embedded Temporal dev server/);
  for (let i = 1; i <= 7; i++) {
    const res = await fetch(`http://127.0.0.1:${inPort}/items/${i}`);
    assert.equal(res.status, 200);
    await res.arrayBuffer();
  }
  assert.equal(await exited, 0, stderr);
  const out = JSON.parse(stdout);
  assert.deepEqual(Object.keys(out).sort(), ['bytes', 'dropped', 'pairs', 'snapshotId', 'workflowId']);
  assert.equal(out.pairs, 7);
  assert.equal(out.dropped, 0);
  const manifest = await new FsSnapshotStore(home).getManifest(out.snapshotId);
  assert.equal(manifest.service, 'items');
  assert.equal(manifest.counts.inbound, 7);
  await app.close();

  const badPort = await runCli(['capture', '--app-port', '99999'], { REPRISE_HOME: home });
  assert.equal(badPort.code, 2);
  assert.match(badPort.stderr, /--app-port/);
});
