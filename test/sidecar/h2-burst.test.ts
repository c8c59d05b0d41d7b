/**
 * A burst of HTTP/2 streams on one connection (nghttp2's h2load through the sidecar to nghttpd,
 * recorded by the real forwarder): the tap's bytes are bounded by `--buffer-bytes`, not by the
 * pair count, so a burst of small streams outnumbering `--buffer-pairs` is recorded whole; past
 * the bytes bound the connection stops being recorded, every stream is counted, every client
 * request is still served. Nothing is shipped before the sidecar closes (a long flush, a huge
 * batch), so the whole burst sits in the buffer at once whatever the machine's speed.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Server, peerTools, runClient, startServer } from '../protocols/peers.js';
import { type CaptureRig, captureRig } from './h2-harness.js';

const STREAMS = 2000;
const tools = peerTools();
let rig: CaptureRig;
let app: Server;

before(async () => {
  rig = await captureRig();
  const doc = path.join(rig.dir, 'doc');
  await mkdir(doc);
  await writeFile(path.join(doc, 'item.json'), JSON.stringify({ id: 1, name: 'item' }));
  app = await startServer(tools.nghttpd, (port) => ['--no-tls', '-d', doc, String(port)]);
});

after(async () => {
  await app?.stop();
  await rig?.close();
});

/** h2load: STREAMS requests on one connection, 100 at a time; returns how many succeeded. */
async function burst(inPort: number): Promise<number> {
  const out = await runClient(tools.h2load, [
    '-n',
    String(STREAMS),
    '-c',
    '1',
    '-m',
    '100',
    `http://127.0.0.1:${inPort}/item.json`,
  ]);
  const m = /requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded/.exec(out);
  assert.ok(m, out);
  return Number(m[1]);
}

const held = { flushMs: 600_000, batchPairs: 1_000_000, drainTimeoutMs: 60_000 };

describe('HTTP/2 burst capture', () => {
  it('records every stream of a burst that outnumbers --buffer-pairs (HTTP/2 is bounded by bytes)', async () => {
    const { out, pairs, stats } = await rig.capture(
      { appPort: app.port, bufferPairs: 50, ...held },
      ({ inPort }) => burst(inPort),
    );
    assert.equal(out, STREAMS, 'h2load: every request succeeded');
    assert.equal(stats.pairs, STREAMS);
    assert.equal(stats.dropped, 0);
    assert.equal(pairs.length, STREAMS);
    assert.equal(new Set(pairs.map((p) => p.h2?.streamId)).size, STREAMS, 'one pair per stream');
    assert.equal(new Set(pairs.map((p) => p.h2?.connectionId)).size, 1);
    assert.ok(pairs.every((p) => p.response?.status === 200 && p.request.path === '/item.json'));
  });

  it('past --buffer-bytes the connection stops being recorded: its streams are counted, the client served', async () => {
    const { out, pairs, stats } = await rig.capture(
      { appPort: app.port, bufferBytes: 20_000, ...held },
      ({ inPort }) => burst(inPort),
    );
    assert.equal(out, STREAMS, 'h2load: every request succeeded');
    assert.equal(stats.pairs, STREAMS);
    assert.ok(stats.dropped > 0, 'about 100 bytes a stream: 2,000 streams cannot fit in 20 kB');
    assert.ok(pairs.length > 0, 'the streams before the bound are recorded');
    assert.equal(pairs.length + stats.dropped, STREAMS, 'every stream recorded or counted');
  });
});
