/**
 * The sidecar as a process (`node dist/workers/sidecar.js`), shipping to the real forwarder
 * (in this process, with a real store): ready line, proxying, drain on SIGTERM, bad flags.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startForwarder, type Forwarder } from '../../src/forwarder/index.js';
import type { RRPair } from '../../src/model/traffic.js';
import { FsSnapshotStore } from '../../src/store/fs-store.js';
import { type Listening, request, startApp } from './helpers.js';

const entry = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../workers/sidecar.js');

function run(args: string[]) {
  const child = spawn(process.execPath, [entry, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, REPRISE_LOG_JSON: '1' },
  });
  const lines: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  createInterface({ input: child.stdout }).on('line', (l) => {
    lines.push(JSON.parse(l));
    waiters.splice(0).forEach((w) => w());
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const line = async (n: number) => {
    while (lines.length < n) {
      const more = new Promise<void>((r) => waiters.push(r));
      const ended = exited.then(() => {
        throw new Error(`sidecar exited before line ${n}: ${stderr}`);
      });
      await Promise.race([more, lines.length >= n ? undefined : ended]);
    }
    return lines[n - 1];
  };
  return { child, line, exited, stderr: () => stderr };
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.on('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.on('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

describe('sidecar process', () => {
  let app: Listening;
  let home: string;
  let store: FsSnapshotStore;
  let fwd: Forwarder;
  let fwdUrl: string;
  before(async () => {
    app = await startApp();
    home = await mkdtemp(path.join(tmpdir(), 'reprise-sidecar-proc-'));
    store = new FsSnapshotStore(home);
    fwd = await startForwarder({ port: 0, home, store });
    fwdUrl = `http://127.0.0.1:${fwd.port}`;
  });
  after(async () => {
    await app.close();
    await fwd.close();
    await rm(home, { recursive: true, force: true });
  });

  const post = async (urlPath: string, body?: unknown) => {
    const res = await fetch(fwdUrl + urlPath, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    assert.ok(res.ok, `${urlPath}: ${res.status} ${await res.clone().text()}`);
    return res.json() as Promise<{ id?: string }>;
  };

  it('prints the ready line, proxies, and on SIGTERM drains to the forwarder, prints the stopped line and exits 0', async () => {
    await post('/v1/recordings', { snapshotId: 'snap-proc', service: 'proc' });
    const p = run([
      '--app-port',
      String(app.port),
      '--in-port',
      '0',
      '--out-port',
      '-1',
      '--admin-port=0',
      `--forwarder=${fwdUrl}`,
      '--service',
      'proc',
      '--flush-ms',
      '60000',
    ]);
    const ready = await p.line(1);
    assert.equal(ready.event, 'ready');
    assert.equal(ready.pid, p.child.pid);
    assert.equal(ready.outPort, -1);
    assert.ok(Number(ready.inPort) > 0 && Number(ready.adminPort) > 0);
    assert.deepEqual(Object.keys(ready).sort(), ['adminPort', 'event', 'inPort', 'outPort', 'pid']);
    const res = await request({ host: '127.0.0.1', port: Number(ready.inPort), path: '/through-process' });
    assert.equal(res.status, 200);
    const health = await request({ host: '127.0.0.1', port: Number(ready.adminPort), path: '/healthz' });
    assert.equal(health.status, 200);

    p.child.kill('SIGTERM');
    const stopped = await p.line(2);
    assert.equal(await p.exited, 0);
    assert.equal(stopped.event, 'stopped');
    assert.equal(stopped.pairs, 1);
    assert.equal(stopped.shipped, 1, 'the buffer was flushed on the way out');
    assert.equal(stopped.dropped, 0);
    assert.ok(await refused(Number(ready.inPort)), 'the in-port is closed');
    // What the sidecar shipped on its way out is in the snapshot the forwarder seals.
    await post('/v1/recordings/snap-proc/seal');
    const pairs: RRPair[] = [];
    for await (const x of store.readPairs('snap-proc')) pairs.push(x);
    assert.deepEqual(
      pairs.map((x) => [x.service, x.direction, x.request.path, x.response?.status]),
      [['proc', 'inbound', '/through-process', 200]],
    );
  });

  it('exits 2 naming the flag when a flag is bad', async () => {
    const p = run(['--app-port', 'eighty']);
    assert.equal(await p.exited, 2);
    assert.match(p.stderr(), /--app-port/);
    const missing = run(['--in-port', '0']);
    assert.equal(await missing.exited, 2);
    assert.match(missing.stderr(), /--app-port: required/);
  });
});
