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
import { childLog } from '../../src/base/log.js';
import { Shipper } from '../../sidecar/shipper.js';
import { newCounters } from '../../sidecar/stats.js';
import { type Server, freePort, peerTools, runClient, startServer } from '../protocols/peers.js';
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

  it('a backlog of HTTP/2 streams does not crowd HTTP/1.1 exchanges out of --buffer-pairs', async () => {
    // A forwarder port nobody listens on: nothing ships, everything stays buffered.
    const counters = newCounters();
    const shipper = new Shipper(
      {
        forwarder: `http://127.0.0.1:${await freePort()}`,
        service: 'svc',
        maxBody: 1024,
        bufferPairs: 5,
        bufferBytes: 1 << 20,
        batchPairs: 1000,
        flushMs: 600_000,
      },
      counters,
      childLog('test'),
    );
    const facts = { outbound: false, https: false, host: '127.0.0.1', port: 80 };
    const conn = { lost: () => assert.fail('the connection was not refused') };
    assert.ok(
      shipper.h2Open(
        {
          conn: 1,
          t: 0,
          facts,
          via: 'prior-knowledge',
          upstream: { host: '127.0.0.1', port: 80, tls: false },
        },
        conn,
      ),
    );
    assert.ok(
      shipper.h2Data(1, 0, 0, Buffer.alloc(100), 50),
      '50 streams over --buffer-pairs: bounded by bytes',
    );
    const exchange = (i: number) =>
      shipper.exchange({
        conn: 10 + i,
        facts,
        startT: 0,
        endT: 1,
        reqHead: Buffer.from('GET / HTTP/1.1\r\nhost: a'),
        reqBody: { parts: [], kept: 0, size: 0 },
        resHead: Buffer.from('HTTP/1.1 200 OK'),
        resBody: { parts: [], kept: 0, size: 0 },
        switched: false,
      });
    for (let i = 0; i < 5; i++) exchange(i);
    assert.equal(counters.dropped, 0, 'five exchanges fit beside 50 HTTP/2 streams');
    exchange(5);
    assert.equal(counters.dropped, 1, 'the sixth is past --buffer-pairs: dropped and counted');
    assert.equal(shipper.bufferedPairs, 55);
    await shipper.drain(Date.now());
    assert.equal(counters.dropped, 56, 'what the drain could not ship is counted');
  });
});
