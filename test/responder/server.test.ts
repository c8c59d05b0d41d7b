import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startResponder, type Responder } from '../../src/responder/index.js';
import { direct, outbound, viaProxy, viaTunnel } from './fixtures.js';
import { textBody } from '../../tools/fixtures/pairs.js';

const recording = () => [
  outbound({ path: '/v1/items', query: [['page', '1']], responseBody: textBody('{"page":1}') }),
  outbound({ path: '/v1/items', query: [['page', '1']], responseBody: textBody('{"page":1,"again":true}') }),
  outbound({
    method: 'POST',
    path: '/v1/orders',
    headers: [['content-type', 'application/json']],
    body: textBody('{"sku":"a","qty":1}'),
    status: 201,
    responseHeaders: [
      ['Content-Type', 'application/json'],
      ['Transfer-Encoding', 'chunked'],
      ['Connection', 'keep-alive, x-hop'],
      ['X-Hop', 'drop me'],
      ['Set-Cookie', 'a=1'],
      ['Set-Cookie', 'b=2'],
    ],
    responseBody: textBody('{"order":7}'),
  }),
  outbound({
    scheme: 'http',
    host: 'legacy.internal',
    port: 8080,
    path: '/status',
    responseHeaders: [
      ['content-type', 'text/plain'],
      ['content-encoding', 'gzip'],
      ['content-length', '999'],
    ],
    responseBody: textBody('all good', { decodedFrom: 'gzip', size: 28 }),
  }),
  outbound({ path: '/v1/slow', durationMs: 150, responseBody: textBody('slow') }),
  outbound({ path: '/v1/broken', noResponse: true, durationMs: 1 }),
  outbound({ path: '/v1/big', responseBody: textBody('0123456789', { size: 5000, truncated: true }) }),
];

describe('responder server', () => {
  let caDir: string;
  let ca: string;
  let responder: Responder;

  before(async () => {
    caDir = await mkdtemp(path.join(tmpdir(), 'reprise-responder-'));
    responder = await startResponder({ pairs: recording(), caDir, config: { latency: 'recorded' } });
    ca = await readFile(path.join(caDir, 'ca.pem'), 'utf8');
  });
  after(async () => {
    await responder.close();
    await rm(caDir, { recursive: true, force: true });
  });

  it('answers an HTTP proxy request (absolute-form) in recorded order, framed', async () => {
    const url = 'http://api.example.com/v1/items?page=1';
    const first = await viaProxy(responder.port, url);
    assert.equal(first.status, 200);
    assert.equal(first.body, '{"page":1}');
    assert.equal(first.headers['content-length'], String(first.body.length));
    assert.equal(first.headers['x-reprise-match'], 'MATCH');
    assert.equal(first.headers['transfer-encoding'], undefined);
    assert.equal((await viaProxy(responder.port, url)).body, '{"page":1,"again":true}');
    assert.equal(
      (await viaProxy(responder.port, url)).body,
      '{"page":1,"again":true}',
      'then repeats the last',
    );
  });

  it('answers HTTPS through a CONNECT tunnel, trusting the Reprise CA', async () => {
    const reply = await viaTunnel(responder.port, 'https://api.example.com/v1/orders', ca, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"qty":1,"sku":"a"}',
    });
    assert.equal(reply.status, 201);
    assert.equal(reply.body, '{"order":7}');
    assert.equal(reply.headers['content-length'], '11');
    assert.deepEqual(reply.headers['set-cookie'], ['a=1', 'b=2']);
    assert.equal(reply.headers['x-hop'], undefined, 'headers named in Connection are hop-by-hop');
    assert.equal(reply.headers['transfer-encoding'], undefined);
  });

  it('answers as a plain host, matching on the Host header', async () => {
    const reply = await direct(responder.port, 'legacy.internal:8080', '/status');
    assert.equal(reply.status, 200);
    assert.equal(reply.body, 'all good');
    assert.equal(reply.headers['content-encoding'], undefined, 'a body recorded decoded is sent as identity');
    assert.equal(reply.headers['content-length'], '8');
  });

  it('answers as a plain HTTPS host (TLS straight to the port, SNI names the dependency)', async () => {
    const reply = await new Promise<{ status: number; body: string }>((resolve, reject) =>
      httpsRequest(
        {
          host: '127.0.0.1',
          port: responder.port,
          servername: 'api.example.com',
          ca,
          path: '/v1/items?page=1',
          headers: { host: 'api.example.com' },
        },
        (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode!, body }));
        },
      )
        .on('error', reject)
        .end(),
    );
    assert.equal(reply.status, 200);
    assert.match(reply.body, /"page":1/);
  });

  it('answers a miss with 404, the nearest signatures, and lists it in stats', async () => {
    const before = responder.stats();
    const reply = await viaProxy(responder.port, 'http://api.example.com/v1/items?page=2');
    assert.equal(reply.status, 404);
    assert.equal(reply.headers['x-reprise-match'], 'NO_MATCH');
    assert.equal(reply.headers['content-length'], String(Buffer.byteLength(reply.body)));
    const body = JSON.parse(reply.body);
    assert.equal(body.error, 'reprise responder: no recorded response');
    assert.deepEqual(body.request, {
      method: 'GET',
      url: 'http://api.example.com/v1/items?page=2',
      signature: 'GET api.example.com/v1/items?page=2',
    });
    assert.equal(body.nearest[0], 'GET api.example.com/v1/items?page=1');
    assert.equal(body.nearest.length, 3);
    const after = responder.stats();
    assert.equal(after.noMatch, before.noMatch + 1);
    const listed = after.misses.at(-1)!;
    assert.equal(listed.status, 'NO_MATCH');
    assert.equal(listed.signature, 'GET api.example.com/v1/items?page=2');
    assert.deepEqual(listed.nearest, body.nearest);
  });

  it('serves the admin endpoints without counting them', async () => {
    const before = responder.stats();
    const health = await direct(responder.port, `127.0.0.1:${responder.port}`, '/__reprise/healthz');
    assert.deepEqual([health.status, JSON.parse(health.body)], [200, { status: 'ok' }]);
    const stats = await direct(responder.port, `127.0.0.1:${responder.port}`, '/__reprise/stats');
    assert.equal(stats.status, 200);
    assert.deepEqual(JSON.parse(stats.body), before);
    assert.deepEqual(responder.stats(), before);
  });

  it('waits the recorded duration when latency is `recorded`', async () => {
    const started = performance.now();
    const reply = await viaProxy(responder.port, 'http://api.example.com/v1/slow');
    assert.equal(reply.body, 'slow');
    assert.ok(performance.now() - started >= 140, 'answered before the recorded 150 ms');
  });

  it('closes the connection for a recorded call that got no response', async () => {
    await assert.rejects(
      viaProxy(responder.port, 'http://api.example.com/v1/broken'),
      /socket hang up|ECONNRESET/,
    );
  });

  it('flags a response body the recorder cut', async () => {
    const reply = await viaProxy(responder.port, 'http://api.example.com/v1/big');
    assert.equal(reply.body, '0123456789');
    assert.equal(reply.headers['content-length'], '10');
    assert.equal(reply.headers['x-reprise-truncated'], '5000');
  });

  it('counts every request', () => {
    const s = responder.stats();
    assert.equal(s.match, 9);
    assert.equal(s.noMatch, 1);
    assert.equal(s.passthrough, 0);
    assert.equal(s.missesDropped, 0);
  });
});

describe('responder misses', () => {
  it('keeps the first maxMisses misses and counts the rest', async () => {
    const responder = await startResponder({ pairs: [outbound()], maxMisses: 2 });
    try {
      for (const p of ['/a', '/b', '/c', '/a']) {
        assert.equal((await viaProxy(responder.port, `http://api.example.com${p}`)).status, 404);
      }
      const s = responder.stats();
      assert.equal(s.noMatch, 4);
      assert.deepEqual(
        s.misses.map((m) => m.url),
        ['http://api.example.com/a', 'http://api.example.com/b'],
      );
      assert.equal(s.missesDropped, 2);
    } finally {
      await responder.close();
    }
  });
});

describe('responder passthrough', () => {
  let upstream: Server;
  let upstreamPort: number;
  let responder: Responder;

  before(async () => {
    upstream = createServer((req, res) => {
      res.setHeader('content-type', 'text/plain');
      res.write('live '); // chunked: the responder must frame it
      res.end(`${req.method} ${req.url}`);
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    upstreamPort = (upstream.address() as AddressInfo).port;
    responder = await startResponder({
      pairs: [outbound({ scheme: 'http', host: '127.0.0.1', port: upstreamPort, path: '/known' })],
      config: { missPolicy: 'passthrough' },
    });
  });
  after(async () => {
    await responder.close();
    await new Promise((resolve) => upstream.close(resolve));
  });

  it('still answers recorded requests from the recording', async () => {
    const reply = await viaProxy(responder.port, `http://127.0.0.1:${upstreamPort}/known`);
    assert.equal(reply.headers['x-reprise-match'], 'MATCH');
    assert.match(reply.body, /^\{"n":\d+\}$/);
  });

  it('forwards a miss to the real host and counts it PASSTHROUGH', async () => {
    const reply = await viaProxy(responder.port, `http://127.0.0.1:${upstreamPort}/unknown?x=1`);
    assert.equal(reply.status, 200);
    assert.equal(reply.body, 'live GET /unknown?x=1');
    assert.equal(reply.headers['x-reprise-match'], 'PASSTHROUGH');
    assert.equal(reply.headers['content-length'], String(reply.body.length));
    const s = responder.stats();
    assert.deepEqual([s.match, s.noMatch, s.passthrough], [1, 0, 1]);
    assert.equal(s.misses[0].status, 'PASSTHROUGH');
    assert.equal(s.misses[0].signature, `GET 127.0.0.1:${upstreamPort}/unknown?x=1`);
  });

  it('answers the admin endpoints instead of passing them through', async () => {
    const health = await direct(responder.port, `127.0.0.1:${responder.port}`, '/__reprise/healthz');
    assert.equal(health.status, 200);
  });
});

describe('responder binding', () => {
  it('listens on the given host only, on an ephemeral port', async () => {
    const responder = await startResponder({ pairs: [], host: '127.0.0.1', port: 0 });
    try {
      assert.ok(responder.port > 0);
      assert.equal(responder.url, `http://127.0.0.1:${responder.port}`);
      const status = await new Promise<number>((resolve, reject) =>
        request(`${responder.url}/__reprise/healthz`, (res) => {
          res.resume();
          resolve(res.statusCode!);
        })
          .on('error', reject)
          .end(),
      );
      assert.equal(status, 200);
    } finally {
      await responder.close();
    }
  });
});
