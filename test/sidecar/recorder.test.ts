/**
 * The tap fed byte streams directly, its frames decoded by the forwarder's decoder: every split,
 * every framing, errors that stop it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bodyText } from '../../src/model/body.js';
import type { RRPair } from '../../src/model/traffic.js';
import { parseHead, type MessageHead } from '../../src/protocols/http1/head.js';
import { Http1Parser, ParseError } from '../../src/protocols/http1/parser.js';
import { requestLocation } from '../../src/protocols/http1/pair.js';
import { ConnectionTap } from '../../sidecar/connection-tap.js';
import { Ignore } from '../../sidecar/ignore.js';
import { readQueuedChunks } from '../../sidecar/tap-queue.js';
import { newCounters } from '../../sidecar/stats.js';
import { seeded } from '../helpers/seeded.js';
import { FrameDecoder } from './frame-decoder.js';

function recorder(maxBody = 1024) {
  const counters = newCounters();
  const out = new FrameDecoder(counters);
  const rec = new ConnectionTap(
    {
      shipper: out,
      maxBody,
      ignore: new Ignore({ ignorePaths: [], ignoreHosts: [], ignorePorts: [], ignoreSrcIps: [] }),
      counters,
      nextConn: () => 1,
    },
    {
      outbound: false,
      https: false,
      host: '10.0.0.1',
      port: 4143,
      upstream: { host: '127.0.0.1', port: 8080, tls: false },
    },
  );
  return {
    rec,
    counters,
    /** Decodes what the tap has handed over since the last call. */
    get pairs(): RRPair[] {
      readQueuedChunks();
      return out.pairs();
    },
  };
}

/** Feeds `stream` (direction, text) in pieces of `size` bytes. */
function feed(stream: [0 | 1, string][], size: number) {
  const r = recorder();
  for (const [dir, text] of stream) {
    const bytes = Buffer.from(text, 'latin1');
    for (let i = 0; i < bytes.length; i += size) r.rec.push(dir, bytes.subarray(i, i + size));
  }
  r.rec.finish();
  return { pairs: r.pairs, counters: r.counters };
}

const REQ = 0;
const RES = 1;

describe('connection recorder', () => {
  const stream: [0 | 1, string][] = [
    [
      REQ,
      'POST /a?x=1&y=%C3%A9 HTTP/1.1\r\nHost: h:81\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nwiki\r\n5;e=1\r\npedia\r\n0\r\nT: 1\r\n\r\n',
    ],
    [REQ, 'GET /b HTTP/1.1\r\nHost: h\r\n\r\n'],
    [RES, 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok'],
    [
      RES,
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1a\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\r\n',
    ],
    [REQ, 'HEAD /c HTTP/1.1\r\nHost: h\r\n\r\nGET /d HTTP/1.1\r\nHost: h\r\n\r\n'],
    [
      RES,
      'HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 7\r\n\r\n',
    ],
    [REQ, 'GET /e HTTP/1.0\r\n\r\n'],
    [RES, 'HTTP/1.0 200 OK\r\n\r\nuntil close'],
  ];

  for (const size of [1, 2, 3, 7, 64, 10_000]) {
    it(`parses the same pairs whatever the chunk size (${size})`, () => {
      const { pairs, counters } = feed(stream, size);
      assert.equal(counters.parseErrors, 0);
      assert.deepEqual(
        pairs.map((p) => [
          p.request.method,
          p.request.path,
          p.response?.status,
          bodyText(p.request.body),
          bodyText(p.response?.body),
        ]),
        [
          ['POST', '/a', 201, 'wikipedia', 'ok'],
          ['GET', '/b', 200, '', 'abcdefghijklmnopqrstuvwxyz'],
          ['HEAD', '/c', 200, '', ''],
          ['GET', '/d', 304, '', ''],
          ['GET', '/e', 200, '', 'until close'],
        ],
      );
      assert.deepEqual(pairs[0].request.query, [
        ['x', '1'],
        ['y', 'é'],
      ]);
      assert.equal(pairs[0].request.host, 'h');
      assert.equal(pairs[0].request.port, 81);
      assert.equal(pairs[1].request.port, 4143, 'no port in Host: the in-port');
      assert.equal(pairs[4].request.host, '10.0.0.1', 'no Host header: the local address');
      assert.equal(pairs[4].tags.httpVersion, '1.0');
      assert.ok(pairs.every((p) => p.error === undefined));
    });
  }

  it('is idle only between exchanges, counting chunks it has not read yet (shutdown waits on it)', () => {
    const r = recorder();
    assert.equal(r.rec.idle, true);
    r.rec.push(REQ, Buffer.from('GET /slow HTTP/1.1\r\n\r\n'));
    assert.equal(r.rec.idle, false, 'a request waits for its response');
    r.rec.push(RES, Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
    assert.equal(r.rec.idle, true);
    assert.equal(r.pairs[0].response?.status, 200);
  });

  it('records a request without an answer with an error when the connection closes', () => {
    const { pairs } = feed([[REQ, 'GET /lost HTTP/1.1\r\nHost: h\r\n\r\n']], 100);
    assert.equal(pairs.length, 1);
    assert.equal(pairs[0].error?.code, 'NO_RESPONSE');
    assert.equal(pairs[0].response, undefined);
  });

  it('records a response cut short with what arrived and an error', () => {
    const { pairs } = feed(
      [
        [REQ, 'GET /cut HTTP/1.1\r\nHost: h\r\n\r\n'],
        [RES, 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'],
      ],
      100,
    );
    assert.equal(pairs[0].error?.code, 'INCOMPLETE_RESPONSE');
    assert.equal(bodyText(pairs[0].response?.body), 'abc');
  });

  it('stops recording on malformed bytes and counts the connection once', () => {
    const { pairs, counters } = feed(
      [
        [REQ, 'GET /ok HTTP/1.1\r\nHost: h\r\n\r\n'],
        [RES, 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'],
        [REQ, 'GET /bad HTTP/1.1\r\nContent-Length: x\r\n\r\n'],
        [RES, 'garbage'],
      ],
      5,
    );
    assert.deepEqual(
      pairs.map((p) => p.request.path),
      ['/ok'],
    );
    assert.equal(counters.parseErrors, 1);
  });

  it('keeps at most max-body bytes of a body and its true size', () => {
    const r = recorder(10);
    r.rec.push(REQ, Buffer.from('POST /x HTTP/1.1\r\nContent-Length: 26\r\n\r\nabcdefghijklm'));
    r.rec.push(REQ, Buffer.from('nopqrstuvwxyz'));
    r.rec.push(RES, Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'));
    const pairs = r.pairs;
    assert.equal(pairs.length, 1);
    assert.deepEqual(pairs[0].request.body, {
      encoding: 'utf8',
      data: 'abcdefghij',
      size: 26,
      truncated: true,
    });
  });

  it('decodes a gzip body it recorded whole', async () => {
    const { gzipSync } = await import('node:zlib');
    const zipped = gzipSync('{"secret":"text"}');
    const r = recorder();
    r.rec.push(REQ, Buffer.from('GET /z HTTP/1.1\r\n\r\n'));
    r.rec.push(
      RES,
      Buffer.concat([
        Buffer.from(`HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: ${zipped.length}\r\n\r\n`),
        zipped,
      ]),
    );
    const body = r.pairs[0].response?.body;
    assert.equal(body?.data, '{"secret":"text"}');
    assert.equal(body?.decodedFrom, 'gzip');
    assert.equal(body?.size, zipped.length);
  });
});

describe('HTTP/1 parser', () => {
  // The tap's boundary finder, then the forwarder's reading of the whole head.
  const heads = (kind: 'request' | 'response', text: string) => {
    const got: MessageHead[] = [];
    const p = new Http1Parser(kind, {
      onHead: (_facts, bytes) => void got.push(parseHead(bytes.toString('latin1'), kind)),
      onBody: () => {},
      onEnd: () => {},
    });
    p.push(Buffer.from(text, 'latin1'), 0);
    return got;
  };

  it('ends each head at its first CRLFCRLF, short or long, wherever CR and LF fall and the chunks split', () => {
    // Values hold lone CRs and LFs (never CRLF): the head ends only at the first CRLFCRLF. Sizes
    // reach past the 2,048 bytes looked through byte by byte, and past the chunks they arrive in.
    const parts = ['a', 'bc', ' ', '\r', '\n', '\n\n', '\r\r', 'x'.repeat(300)];
    for (let seed = 1; seed <= 300; seed++) {
      const r = seeded(seed);
      const want: string[] = [];
      let stream = '';
      for (let m = 1 + r(4); m > 0; m--) {
        let head = `GET /${seed}/${m} HTTP/1.1`;
        for (let h = r(12); h > 0; h--) {
          let value = '';
          for (let k = r(8); k > 0; k--) value += parts[r(parts.length)];
          // A value ending in CR would make CRLF with the line's end; one starting with LF would after ': '.
          head += `\r\nX-${h}: v${value.replace(/\r\n/g, '\r.\n')}v`;
        }
        want.push(head);
        stream += (r(5) === 0 ? '\r\n' : '') + head + '\r\n\r\n';
      }
      const got: string[] = [];
      const p = new Http1Parser('request', {
        onHead: (_facts, bytes) => void got.push(bytes.toString('latin1')),
        onBody: () => {},
        onEnd: () => {},
      });
      const bytes = Buffer.from(stream, 'latin1');
      for (let at = 0; at < bytes.length;) {
        const n = r(3) === 0 ? bytes.length : 1 + r(3000);
        p.push(bytes.subarray(at, at + n), 0);
        at += n;
      }
      assert.deepEqual(got, want, `seed ${seed}`);
    }
    // Every place the end can fall around the byte-by-byte scan's limit, in one chunk.
    for (let size = 2030; size <= 2060; size++) {
      const first = 'GET /a HTTP/1.1\r\nX-Fill: ';
      const head = first + 'f'.repeat(size - first.length);
      const got: string[] = [];
      const p = new Http1Parser('request', {
        onHead: (_facts, bytes) => void got.push(bytes.toString('latin1')),
        onBody: () => {},
        onEnd: () => {},
      });
      p.push(Buffer.from(`\r\n${head}\r\n\r\nGET /b HTTP/1.1\r\n\r\n`, 'latin1'), 0);
      assert.deepEqual(got, [head, 'GET /b HTTP/1.1'], `a head of ${size} bytes`);
    }
  });

  it('rejects what is not HTTP/1.x, naming an h2c preface', () => {
    assert.throws(
      () => heads('request', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'),
      (e) => e instanceof ParseError && e.code === 'h2c',
    );
    assert.throws(() => heads('request', 'GET / HTTP/3\r\n\r\n'), ParseError);
    assert.throws(() => heads('request', 'GET / HTTP/1.1\r\nno colon\r\n\r\n'), ParseError);
    assert.throws(
      () => heads('request', 'POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n'),
      ParseError,
    );
    assert.throws(() => heads('request', 'POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n'), ParseError);
    assert.throws(() => heads('response', 'HTTP/1.1 2000 OK\r\n\r\n'), ParseError);
    assert.throws(() => heads('request', 'GET /' + 'a'.repeat(70_000)), ParseError);
  });

  it('keeps header order, case and repeats; folds continuation lines', () => {
    const [h] = heads(
      'request',
      'GET / HTTP/1.1\r\nX-A: 1\r\nx-a: 2\r\nX-Long: a\r\n  b\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n',
    );
    assert.deepEqual(h.headers, [
      ['X-A', '1'],
      ['x-a', '2'],
      ['X-Long', 'a b'],
      ['Connection', 'keep-alive, Upgrade'],
      ['Upgrade', 'websocket'],
    ]);
    assert.equal(h.upgrade, 'websocket');
  });

  it('splits absolute targets and IPv6 hosts', () => {
    const facts = { direction: 'outbound' as const, scheme: 'http' as const, host: 'x', port: 1 };
    assert.deepEqual(requestLocation('https://API.example.com:8443/p/q?a=1#frag', [], facts), {
      scheme: 'https',
      host: 'api.example.com',
      port: 8443,
      path: '/p/q',
      query: [['a', '1']],
    });
    const v6 = requestLocation('/x', [['host', '[::1]:9000']], facts);
    assert.equal(v6.host, '::1');
    assert.equal(v6.port, 9000);
  });
});
