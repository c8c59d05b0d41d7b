/**
 * Warm standbys (activities/local/standby.ts) through the local replay runtime and the real
 * worker processes: a replay's responder and generator are the standbys, running with the
 * replay's arguments and writing to the replay's logs; a new standby replaces each once its
 * replay is over; an idle standby ends when its keeper goes.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile, rm, mkdtemp } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LocalReplayRuntime } from '../../activities/local/index.js';
import { isAlive, type ProcessRecord } from '../../activities/local/processes.js';
import type { RuntimeContext } from '../../activities/runtime.js';
import { ResponderConfig, LoadConfig } from '../../src/config/replay.js';
import { runDir } from '../../src/base/paths.js';
import { STANDBY_FLAG } from '../../src/base/worker-args.js';
import { FsSnapshotStore } from '../../src/store/fs-store.js';
import { makePair, textBody } from '../../tools/fixtures/pairs.js';
import { standbyPids, workerScript } from '../helpers/standbys.js';
import { waitFor } from '../workflows/loopback.js';

const ctx: RuntimeContext = { heartbeat: () => {}, signal: new AbortController().signal };

/** A GET with its own Host header (fetch sets the URL's). */
function get(base: string, target: string, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${target}`, { headers: { host } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('local replay runtime with standbys', () => {
  let home: string;
  let runtime: LocalReplayRuntime;
  let app: Server;
  let appUrl: string;
  let snapshotId: string;

  before(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'reprise-standby-'));
    const writer = await new FsSnapshotStore(home).createWriter({ service: 'orders', source: 'capture' });
    for (let i = 0; i < 5; i++) await writer.append(makePair({ id: `in-${i}`, path: `/items/${i}` }));
    await writer.append(
      makePair({
        id: 'out-0',
        direction: 'outbound',
        host: 'api.example.com',
        port: 80,
        path: '/v1/price',
        responseBody: textBody('{"price":1}'),
      }),
    );
    snapshotId = (await writer.seal()).id;
    app = createServer((req, res) => res.end(req.url));
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    appUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
    runtime = new LocalReplayRuntime(home, { standby: true });
  });
  after(async () => {
    await runtime.stopAll();
    await new Promise((resolve) => app.close(resolve));
    await rm(home, { recursive: true, force: true });
  });

  const record = async (replayId: string, name: string) =>
    JSON.parse(await readFile(path.join(runDir(home), replayId, `${name}.json`), 'utf8')) as ProcessRecord;

  it('runs the replay on the standbys, with its arguments and in its logs, then replaces them', async () => {
    const [responderStandby] = await waitFor('a responder standby', async () => {
      const pids = await standbyPids(home, workerScript('responder'));
      return pids.length ? pids : undefined;
    });
    const [generatorStandby] = await standbyPids(home, workerScript('generator'));
    assert.ok(generatorStandby, 'a generator standby waits too');

    const ref = { replayId: 'replay-standby' };
    const { url } = await runtime.startResponder(
      { ...ref, snapshotId, config: ResponderConfig.parse({}) },
      ctx,
    );
    assert.equal((await record(ref.replayId, 'responder')).pid, responderStandby);
    assert.equal(await get(url, '/v1/price', 'api.example.com'), '{"price":1}');

    const summary = await runtime.runGenerator(
      { ...ref, snapshotId, targetUrl: appUrl, load: LoadConfig.parse({}), transforms: [] },
      ctx,
    );
    assert.deepEqual([summary.requests, summary.responses, summary.errors], [5, 5, 0]);
    assert.equal((await record(ref.replayId, 'generator')).pid, generatorStandby);
    const generatorLog = await readFile(path.join(runDir(home), ref.replayId, 'generator.log'), 'utf8');
    assert.match(generatorLog, /"event":"done"/);

    const next = await waitFor('a new generator standby', async () => {
      const pids = (await standbyPids(home, workerScript('generator'))).filter((p) => p !== generatorStandby);
      return pids.length ? pids : undefined;
    });
    assert.equal(next.length, 1);
    await runtime.stopResponder(ref, ctx);
    assert.equal(await isAlive(responderStandby), false);
    await waitFor('a new responder standby', async () => {
      const pids = (await standbyPids(home, workerScript('responder'))).filter((p) => p !== responderStandby);
      return pids.length ? pids : undefined;
    });
  });
});

describe('a worker started as a standby', () => {
  it('ends when its keeper closes its input, and exits 2 on an argument line that is not a JSON array', async () => {
    const idle = spawn(process.execPath, [workerScript('generator'), STANDBY_FLAG], {
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    idle.stdin.end();
    assert.deepEqual(await once(idle, 'exit'), [0, null]);

    const bad = spawn(process.execPath, [workerScript('generator'), STANDBY_FLAG], {
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    let stderr = '';
    bad.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    bad.stdin.end('--snapshot x\n');
    assert.deepEqual(await once(bad, 'exit'), [2, null]);
    assert.match(stderr, /--standby: expected one line with a JSON array of strings/);
  });
});
