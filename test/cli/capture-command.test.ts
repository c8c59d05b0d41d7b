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
import { plainUserEnv, repriseBin, runCli } from '../helpers/cli.js';
import { startCountingApp } from '../helpers/replay-fixtures.js';

/** Starts `reprise capture`; resolves `ready` with stderr so far once it says where to send traffic. */
function startCapture(args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [repriseBin, 'capture', ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (c: Buffer) => (out.stdout += c.toString()));
  const ready = new Promise<void>((resolve) =>
    child.stderr.on('data', (c: Buffer) => {
      out.stderr += c.toString();
      if (out.stderr.includes('send traffic to')) resolve();
    }),
  );
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  return { child, out, ready: Promise.race([ready, exited]), exited };
}

async function sendItems(port: number, count: number): Promise<void> {
  for (let i = 1; i <= count; i++) {
    const res = await fetch(`http://127.0.0.1:${port}/items/${i}`);
    assert.equal(res.status, 200);
    await res.arrayBuffer();
  }
}

test('capture --json records traffic with an embedded Temporal and prints the contract object', async () => {
  const home = await mkdtemp(path.join(tmpdir(), 'reprise-capture-cli-'));
  const app = await startCountingApp();
  const [inPort, outPort] = [await freePort(), await freePort()];
  const env = plainUserEnv(home);
  const args = ['--app-port', String(app.port), '--in-port', String(inPort), '--out-port', String(outPort)];
  const capture = startCapture([...args, '--service', 'items', '--duration', '8s', '--json'], env);
  await capture.ready;
  const { out } = capture;
  assert.match(out.stderr, /embedded Temporal dev server/);
  // stderr is a pipe here, as in a script or CI: still sentences, not JSON log lines.
  assert.doesNotMatch(out.stderr, /^\{/m);
  assert.match(out.stderr, new RegExp(`app HTTP_PROXY=http://127\\.0\\.0\\.1:${outPort}`));
  assert.match(out.stderr, new RegExp(`http_proxy=http://127\\.0\\.0\\.1:${outPort}`));
  await sendItems(inPort, 7);
  assert.equal(await capture.exited, 0, out.stderr);
  const result = JSON.parse(out.stdout);
  assert.deepEqual(Object.keys(result).sort(), ['bytes', 'dropped', 'pairs', 'snapshotId', 'workflowId']);
  assert.equal(result.pairs, 7);
  assert.equal(result.dropped, 0);
  const manifest = await new FsSnapshotStore(home).getManifest(result.snapshotId);
  assert.equal(manifest.service, 'items');
  assert.equal(manifest.counts.inbound, 7);
  await app.close();

  const badPort = await runCli(['capture', '--app-port', '99999'], { REPRISE_HOME: home });
  assert.equal(badPort.code, 2);
  assert.match(badPort.stderr, /--app-port/);
});

test('capture --no-outbound --in-port 0 records inbound traffic with no proxy for the app, until Ctrl-C', async () => {
  const home = await mkdtemp(path.join(tmpdir(), 'reprise-capture-cli-inbound-'));
  const app = await startCountingApp();
  const env = plainUserEnv(home);
  const args = ['--app-port', String(app.port), '--in-port', '0', '--no-outbound', '--json'];
  const capture = startCapture(args, env);
  await capture.ready;
  const { out } = capture;
  const announced = /send traffic to http:\/\/127\.0\.0\.1:(\d+); outbound capture off \(workflow /.exec(
    out.stderr,
  );
  assert.ok(announced, out.stderr);
  assert.doesNotMatch(out.stderr, /HTTP_PROXY/);
  await sendItems(Number(announced[1]), 3);
  // No --duration: Ctrl-C (SIGINT) stops the capture and seals what was recorded.
  capture.child.kill('SIGINT');
  assert.equal(await capture.exited, 0, out.stderr);
  assert.match(out.stderr, /stopping capture; sealing the snapshot/);
  const result = JSON.parse(out.stdout);
  assert.equal(result.pairs, 3);
  const manifest = await new FsSnapshotStore(home).getManifest(result.snapshotId);
  assert.equal(manifest.counts.inbound, 3);
  assert.equal(manifest.counts.outbound, 0);
  await app.close();
});
