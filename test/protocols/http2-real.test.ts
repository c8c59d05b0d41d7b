/**
 * The HTTP/2 decoder on real traffic: nghttp (and node:http2) clients against nghttpd (and
 * nghttpx for `Upgrade: h2c`), through a relay that tees both directions into the decoder.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type H2Exchange, header } from '../../src/protocols/http2/exchange.js';
import { Flag, FrameReader, FrameType } from '../../src/protocols/http2/frames.js';
import { type Decoded, decodeEvents } from './decode.js';
import { type Server, TeeRelay, type TeeEvent, peerTools, runClient, startServer } from './peers.js';

const tools = peerTools();
const files: Record<string, Buffer> = {
  'a.txt': Buffer.from('alpha\n'),
  'b.json': Buffer.from(JSON.stringify({ b: [1, 2, 3] })),
  'c.bin': randomBytes(200_000),
  'e.bin': randomBytes(150_000),
};
let doc: string;
let nghttpd: Server;
let nghttpx: Server;
const relays: TeeRelay[] = [];

before(async () => {
  doc = mkdtempSync(path.join(os.tmpdir(), 'reprise-h2-'));
  for (const [name, bytes] of Object.entries(files)) writeFileSync(path.join(doc, name), bytes);
  nghttpd = await startServer(tools.nghttpd, (port) => ['--no-tls', '--padding=16', '-d', doc, String(port)]);
  const backend = nghttpd.port;
  nghttpx = await startServer(tools.nghttpx, (port) => [
    '--conf=/dev/null',
    `--frontend=127.0.0.1,${port};no-tls`,
    `--backend=127.0.0.1,${backend};;proto=h2`,
    '--workers=1',
    '--accesslog-file=/dev/null',
    '--errorlog-file=/dev/null',
  ]);
});

after(async () => {
  for (const r of relays) await r.stop();
  await nghttpx?.stop();
  await nghttpd?.stop();
  rmSync(doc, { recursive: true, force: true });
});

/** Runs `nghttp args...` against a fresh relay to `port`; returns the teed connections. */
async function nghttp(args: string[], urls: string[], port = nghttpd.port): Promise<TeeEvent[][]> {
  const relay = await TeeRelay.start(port);
  relays.push(relay);
  await runClient(tools.nghttp, [...args, ...urls.map((u) => `http://127.0.0.1:${relay.port}/${u}`)]);
  await relay.idle();
  return relay.connections;
}

/** What a test compares: per stream, the request and the response as plain data. */
function summary(d: Decoded) {
  return d.exchanges
    .map((ex) => ({
      id: ex.streamId,
      path: header(ex.request.headers, ':path'),
      status: header(ex.response?.headers ?? [], ':status'),
      reqBody: ex.request.body.size,
      resSize: ex.response?.body.size,
      resBody: ex.response?.body.bytes().toString('base64'),
      truncated: ex.response?.body.truncated,
      error: ex.error,
    }))
    .sort((a, b) => a.id - b.id);
}

/** Frames of one direction as [type, flags, streamId], DATA included. */
function frames(events: TeeEvent[], dir: 0 | 1): [number, number, number][] {
  const out: [number, number, number][] = [];
  const r = new FrameReader(
    {
      onFrame: (type, flags, id) => out.push([type, flags, id]),
      onData: () => {},
      onDataEnd: (id, flags) => out.push([FrameType.DATA, flags, id]),
    },
    { preface: dir === 0 },
  );
  for (const e of events) if (e.dir === dir) r.push(e.bytes, e.t);
  return out;
}

function byPath(d: Decoded, p: string): H2Exchange {
  const ex = d.exchanges.find((e) => header(e.request.headers, ':path') === p);
  assert.ok(ex, `no exchange for ${p}`);
  return ex;
}

describe('HTTP/2 decoding of real nghttp2 traffic', () => {
  it('keeps interleaved streams of one connection apart, one exchange per stream, in any chunking', async () => {
    const conns = await nghttp(['-n'], ['a.txt', 'b.json', 'c.bin', 'e.bin']);
    assert.equal(conns.length, 1);
    const d = decodeEvents(conns[0]);
    assert.deepEqual(d.errors, []);
    assert.equal(d.exchanges.length, 4);
    assert.equal(new Set(d.exchanges.map((e) => e.streamId)).size, 4);
    for (const [name, bytes] of Object.entries(files)) {
      const ex = byPath(d, `/${name}`);
      assert.equal(header(ex.request.headers, ':method'), 'GET');
      assert.equal(header(ex.response!.headers, ':status'), '200');
      assert.ok(ex.response!.body.bytes().equals(bytes), `${name} body`);
      assert.equal(ex.error, undefined);
      assert.ok(ex.startT <= ex.response!.startT && ex.response!.startT <= ex.endT);
    }
    // The two large bodies really did interleave on the wire.
    const dataIds = frames(conns[0], 1)
      .filter(([type]) => type === FrameType.DATA)
      .map(([, , id]) => id);
    const c = byPath(d, '/c.bin').streamId;
    const e = byPath(d, '/e.bin').streamId;
    assert.ok(dataIds.lastIndexOf(c) > dataIds.indexOf(e) && dataIds.lastIndexOf(e) > dataIds.indexOf(c));
    const expected = summary(d);
    assert.deepEqual(summary(decodeEvents(conns[0], { split: 1 })), expected);
    assert.deepEqual(summary(decodeEvents(conns[0], { split: 'random' })), expected);
  });

  it('cuts a body past the cap, and takes the tap’s gaps without losing the frame stream', async () => {
    const [conn] = await nghttp(['-n'], ['c.bin', 'a.txt', 'e.bin']);
    const capped = decodeEvents(conn, { limits: { maxBody: 65_536 } });
    const c = byPath(capped, '/c.bin').response!.body;
    assert.equal(c.size, files['c.bin'].length);
    assert.equal(c.kept, 65_536);
    assert.equal(c.truncated, true);
    assert.ok(c.bytes().equals(files['c.bin'].subarray(0, 65_536)));

    const tapped = decodeEvents(conn, { tapMaxBody: 10_000, split: 'random' });
    assert.deepEqual(tapped.errors, []);
    for (const name of ['c.bin', 'e.bin']) {
      const body = byPath(tapped, `/${name}`).response!.body;
      assert.equal(body.size, files[name].length, `${name} size counts the gaps`);
      assert.equal(body.truncated, true);
      // The tap passes at most 10,000 payload bytes per stream, padding included.
      assert.ok(body.kept <= 10_000 && body.kept > 9_000, `${name} kept ${body.kept}`);
      assert.ok(body.bytes().equals(files[name].subarray(0, body.kept)));
    }
    assert.ok(byPath(tapped, '/a.txt').response!.body.bytes().equals(files['a.txt']));
  });

  it('reads padded DATA and HEADERS frames from both sides', async () => {
    const [conn] = await nghttp(['-n', '-b', '32'], ['a.txt', 'b.json']);
    const padded = (dir: 0 | 1) => frames(conn, dir).filter(([, flags]) => flags & Flag.PADDED);
    assert.ok(
      padded(1).some(([type]) => type === FrameType.DATA),
      'the server padded its DATA frames',
    );
    assert.ok(
      padded(0).some(([type]) => type === FrameType.HEADERS),
      'the client padded its HEADERS frames',
    );
    const d = decodeEvents(conn, { split: 3 });
    assert.ok(byPath(d, '/a.txt').response!.body.bytes().equals(files['a.txt']));
    assert.ok(byPath(d, '/b.json').response!.body.bytes().equals(files['b.json']));
  });

  it('joins a header block split over CONTINUATION frames', async () => {
    const big = randomBytes(30_000).toString('base64');
    const [conn] = await nghttp(['-n', '-H', `x-big: ${big}`], ['a.txt']);
    assert.ok(frames(conn, 0).some(([type]) => type === FrameType.CONTINUATION));
    const d = decodeEvents(conn, { split: 'random' });
    assert.deepEqual(d.errors, []);
    assert.equal(header(byPath(d, '/a.txt').request.headers, 'x-big'), big);
    // Past the header list limit the big field is dropped and the list marked, nothing else lost.
    const limited = decodeEvents(conn, { limits: { maxHeaderListSize: 8192 } });
    const ex = byPath(limited, '/a.txt');
    assert.equal(ex.request.headersTruncated, true);
    assert.equal(header(ex.request.headers, 'x-big'), undefined);
    assert.ok(ex.response!.body.bytes().equals(files['a.txt']));
  });

  it('records a request body and request trailers', async () => {
    const upload = path.join(doc, 'e.bin');
    const [conn] = await nghttp(['-n', '-d', upload, '--trailer', 'x-checksum: 42'], ['a.txt']);
    const d = decodeEvents(conn);
    const ex = byPath(d, '/a.txt');
    assert.equal(header(ex.request.headers, ':method'), 'POST');
    assert.ok(ex.request.body.bytes().equals(files['e.bin']));
    assert.deepEqual(ex.request.trailers, [['x-checksum', '42']]);
  });

  it('follows an HTTP/1.1 Upgrade: h2c, the upgraded request being stream 1', async () => {
    const conns = await nghttp(['-n', '-u'], ['a.txt', 'b.json'], nghttpx.port);
    const d = decodeEvents(conns[0], { upgrade: true });
    assert.deepEqual(d.errors, []);
    const first = byPath(d, '/a.txt');
    assert.equal(first.streamId, 1);
    assert.equal(first.upgraded, true);
    assert.equal(header(first.request.headers, ':authority'), `127.0.0.1:${relays.at(-1)!.port}`);
    assert.ok(first.response!.body.bytes().equals(files['a.txt']));
    assert.ok(byPath(d, '/b.json').response!.body.bytes().equals(files['b.json']));
  });

  it('reports a stream the client reset, with the RST_STREAM code', async () => {
    const relay = await TeeRelay.start(nghttpd.port);
    relays.push(relay);
    const session = http2.connect(`http://127.0.0.1:${relay.port}`);
    const req = session.request({ ':path': '/c.bin' });
    await new Promise<void>((resolve) => {
      req.once('data', () => {
        req.close(http2.constants.NGHTTP2_CANCEL);
        resolve();
      });
    });
    const ok = session.request({ ':path': '/a.txt' });
    ok.resume();
    await new Promise((resolve) => ok.on('end', resolve));
    session.close();
    await relay.idle();
    const d = decodeEvents(relay.connections[0]);
    const reset = byPath(d, '/c.bin');
    assert.deepEqual({ by: reset.reset?.by, name: reset.reset?.name }, { by: 'client', name: 'CANCEL' });
    assert.equal(header(reset.response!.headers, ':status'), '200');
    assert.ok(reset.response!.body.size < files['c.bin'].length);
    assert.ok(byPath(d, '/a.txt').response!.body.bytes().equals(files['a.txt']));
  });
});
