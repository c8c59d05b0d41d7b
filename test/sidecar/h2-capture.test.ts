/**
 * HTTP/2 reached every way the sidecar sees it, with real peers (nghttp2's nghttpd, nghttpx and
 * nghttp, curl), recorded by the real forwarder: inbound h2c with prior knowledge (several
 * streams on one connection kept apart) and after `Upgrade: h2c`; outbound h2 negotiated by
 * ALPN in an intercepted CONNECT tunnel, and h2c with prior knowledge in a plain tunnel.
 */
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadCa } from '../../src/tls/ca.js';
import { bodyText } from '../../src/model/body.js';
import { headerValue } from '../../src/model/headers.js';
import type { RRPair } from '../../src/model/traffic.js';
import { LeafCertificates } from '../../sidecar/tls-interception.js';
import { type Server, peerTools, runClient, startServer } from '../protocols/peers.js';
import { type CaptureRig, captureRig } from './h2-harness.js';

const tools = peerTools();
const files = {
  'a.txt': Buffer.from('hello over h2\n'),
  'b.json': Buffer.from(JSON.stringify({ b: [1, 2, 3] })),
  'c.bin': randomBytes(100_000),
};
let rig: CaptureRig;
let doc: string;
let plain: Server;
let upgrading: Server;
let secure: Server;
let upstreamCa: string;

before(async () => {
  rig = await captureRig();
  doc = path.join(rig.dir, 'doc');
  await mkdir(doc);
  for (const [name, bytes] of Object.entries(files)) await writeFile(path.join(doc, name), bytes);
  plain = await startServer(tools.nghttpd, (port) => ['--no-tls', '-d', doc, String(port)]);
  // nghttpd does not take `Upgrade: h2c`; nghttpx in front of it does.
  upgrading = await startServer(tools.nghttpx, (port) => [
    '--conf=/dev/null',
    `--frontend=127.0.0.1,${port};no-tls`,
    `--backend=127.0.0.1,${plain.port};;proto=h2`,
    '--workers=1',
    '--accesslog-file=/dev/null',
    '--errorlog-file=/dev/null',
  ]);
  // TLS with a certificate of its own CA, which the sidecar is told to trust.
  const ca = await loadCa(path.join(rig.dir, 'upstream-ca'));
  upstreamCa = ca.certPem;
  const leaf = await (await LeafCertificates.create(ca)).issue('localhost');
  await writeFile(path.join(rig.dir, 'key.pem'), leaf.key);
  await writeFile(path.join(rig.dir, 'cert.pem'), leaf.cert);
  secure = await startServer(tools.nghttpd, (port) => [
    '-d',
    doc,
    String(port),
    path.join(rig.dir, 'key.pem'),
    path.join(rig.dir, 'cert.pem'),
  ]);
});

after(async () => {
  for (const s of [upgrading, plain, secure]) await s?.stop();
  await rig?.close();
});

/** A POST with `headers` and `trailers` from node:http2 (a real client that can mark headers never-indexed). */
function h2Post(
  port: number,
  p: string,
  headers: http2.OutgoingHttpHeaders,
  trailers: http2.OutgoingHttpHeaders,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on('error', reject);
    const req = session.request({ ':method': 'POST', ':path': p, ...headers }, { waitForTrailers: true });
    req.on('wantTrailers', () => req.sendTrailers(trailers));
    req.on('response', (h) => {
      req.resume();
      req.on('end', () => {
        session.close();
        resolve(Number(h[':status']));
      });
    });
    req.on('error', reject);
    req.end('body');
  });
}

const byPath = (pairs: RRPair[], p: string) => {
  const found = pairs.filter((x) => x.request.path === p);
  assert.equal(found.length, 1, `one pair for ${p} (of ${pairs.map((x) => x.request.path).join(', ')})`);
  return found[0];
};

/** Each file came back whole and was recorded whole, as HTTP/2. */
function assertFiles(pairs: RRPair[], names: (keyof typeof files)[], via: string): void {
  for (const name of names) {
    const p = byPath(pairs, `/${name}`);
    assert.equal(p.protocol, 'h2');
    assert.equal(p.h2?.via, via);
    assert.equal(p.response?.status, 200);
    const body = p.response!.body!;
    const bytes = Buffer.from(body.data, body.encoding === 'base64' ? 'base64' : 'utf8');
    assert.ok(bytes.equals(files[name]), `${name}: the recorded body is the file`);
  }
}

describe('HTTP/2 capture through the sidecar', () => {
  it('inbound h2c with prior knowledge: concurrent streams on one connection, one pair each', async () => {
    const { out, pairs, stats } = await rig.capture({ appPort: plain.port }, ({ inPort }) =>
      runClient(tools.nghttp, [
        '-n',
        '-s',
        ...Object.keys(files).map((f) => `http://127.0.0.1:${inPort}/${f}`),
      ]),
    );
    assert.match(out, /\/c\.bin/, 'nghttp reports every stream');
    assert.equal(stats.dropped, 0);
    assert.equal(pairs.length, 3);
    assertFiles(pairs, ['a.txt', 'b.json', 'c.bin'], 'prior-knowledge');
    assert.equal(new Set(pairs.map((p) => p.h2?.connectionId)).size, 1);
    const ids = pairs.map((p) => p.h2!.streamId);
    assert.equal(new Set(ids).size, 3, 'three streams');
    assert.ok(
      ids.every((id) => id % 2 === 1),
      'client-opened streams',
    );
    assert.ok(pairs.every((p) => p.direction === 'inbound' && p.request.method === 'GET'));
  });

  it('fails open: a connection outgrowing the buffer is no longer recorded, its streams counted, the client served', async () => {
    const urls = (port: number) =>
      // nghttp asks once per distinct URI: the queries make three requests of one file.
      ['a.txt', 'c.bin?1', 'c.bin?2', 'c.bin?3'].map((f) => `http://127.0.0.1:${port}/${f}`);
    const { out, pairs, stats } = await rig.capture(
      { appPort: plain.port, bufferBytes: 60_000 },
      ({ inPort }) => runClient(tools.nghttp, ['-n', '-s', ...urls(inPort)]),
    );
    // nghttp's statistics list every response with its status: all four came back.
    assert.equal([...out.matchAll(/ 200 .*\/(a\.txt|c\.bin)/g)].length, 4, out);
    assert.equal(stats.pairs, 4);
    assert.ok(stats.dropped >= 1, 'the 100 kB responses cannot fit in 60 kB');
    assert.equal(pairs.length + stats.dropped, 4, 'every stream recorded or counted');
  });

  it('inbound HTTP/1.1 `Upgrade: h2c`: the upgraded request is stream 1, later ones follow', async () => {
    const { pairs, stats } = await rig.capture({ appPort: upgrading.port }, ({ inPort }) =>
      runClient(tools.nghttp, [
        '-u',
        `http://127.0.0.1:${inPort}/a.txt`,
        `http://127.0.0.1:${inPort}/b.json`,
      ]),
    );
    assert.equal(stats.dropped, 0);
    assertFiles(pairs, ['a.txt', 'b.json'], 'upgrade');
    assert.equal(byPath(pairs, '/a.txt').h2?.streamId, 1);
  });

  it('masks header values sent never-indexed, and trailers, as DLP masks HTTP/1.1 headers', async () => {
    const secret = 'opaque-value-no-detector-knows';
    const { out, pairs } = await rig.capture({ appPort: plain.port }, ({ inPort }) =>
      h2Post(
        inPort,
        '/a.txt',
        { 'x-session-key': secret, [http2.sensitiveHeaders]: ['x-session-key'] },
        {
          'x-trailer-mail': 'bob@example.com',
        },
      ),
    );
    assert.equal(out, 200);
    const p = byPath(pairs, '/a.txt');
    assert.deepEqual(p.h2?.neverIndexed?.request, ['x-session-key']);
    assert.match(headerValue(p.request.headers, 'x-session-key') ?? '', /^REDACTED-header-/);
    assert.match(headerValue(p.request.trailers ?? [], 'x-trailer-mail') ?? '', /^REDACTED-email-/);
    assert.ok(!JSON.stringify(p).includes(secret));
  });

  it('outbound h2 by ALPN inside an intercepted CONNECT tunnel (curl trusting the Reprise CA)', async () => {
    const caDir = path.join(rig.dir, 'reprise-ca');
    const { out, pairs, stats } = await rig.capture(
      { inPort: -1, outPort: 0, tlsIntercept: true, caDir, upstreamCa: [upstreamCa] },
      async ({ outPort }) =>
        runClient(tools.curl, [
          '-sS',
          '--http2',
          '--cacert',
          path.join(caDir, 'ca.pem'),
          '-x',
          `http://127.0.0.1:${outPort}`,
          '-w',
          '%{http_version}',
          '-o',
          '/dev/null',
          `https://localhost:${secure.port}/c.bin`,
        ]),
    );
    assert.equal(out, '2', 'curl spoke HTTP/2 with the sidecar');
    assert.equal(stats.dropped, 0);
    assertFiles(pairs, ['c.bin'], 'alpn');
    const p = byPath(pairs, '/c.bin');
    assert.equal(p.direction, 'outbound');
    assert.equal(p.request.scheme, 'https');
    assert.equal(p.request.host, 'localhost');
    assert.equal(p.request.port, secure.port);
  });

  it('outbound h2c with prior knowledge inside a CONNECT tunnel (plain text: seen with --tls-intercept)', async () => {
    const caDir = path.join(rig.dir, 'reprise-ca');
    const opts = { inPort: -1, outPort: 0, tlsIntercept: true, caDir };
    const { pairs, stats } = await rig.capture(opts, ({ outPort }) =>
      runClient(tools.curl, [
        '-sS',
        '--http2-prior-knowledge',
        '--proxytunnel',
        '-x',
        `http://127.0.0.1:${outPort}`,
        '-o',
        '/dev/null',
        `http://127.0.0.1:${plain.port}/b.json`,
      ]),
    );
    assert.equal(stats.dropped, 0);
    assertFiles(pairs, ['b.json'], 'prior-knowledge');
    const p = byPath(pairs, '/b.json');
    assert.equal(p.direction, 'outbound');
    assert.equal(p.request.scheme, 'http');
    assert.equal(bodyText(p.response?.body), files['b.json'].toString());
  });
});
