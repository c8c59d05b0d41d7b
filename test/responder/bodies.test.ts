import assert from 'node:assert/strict';
import { Agent, createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { startResponder, type Responder } from '../../src/responder/index.js';
import { textBody } from '../../tools/fixtures/pairs.js';
import { direct, outbound, viaProxy } from './fixtures.js';

const JSON_TYPE = { 'content-type': 'application/json' };
/** Long enough to arrive in several reads, and to be keyed by its hash. */
const BIG = JSON.stringify({ rows: Array.from({ length: 20_000 }, (_, i) => ({ i, name: `row-${i}` })) });

const recording = () => [
  outbound({
    method: 'POST',
    path: '/v1/quote',
    headers: [['content-type', 'application/json']],
    body: textBody('{"sku":"a","qty":1}'),
    responseBody: textBody('{"price":10}'),
  }),
  outbound({
    method: 'POST',
    path: '/v1/quote',
    headers: [['content-type', 'application/json']],
    body: textBody('{"sku":"b","qty":1}'),
    responseBody: textBody('{"price":20}'),
  }),
  outbound({
    method: 'POST',
    path: '/v1/quote',
    headers: [['content-type', 'application/json']],
    body: textBody('{"sku":"b","qty":1}'),
    responseBody: textBody('{"price":21}'),
  }),
  outbound({
    method: 'PUT',
    path: '/v1/bulk',
    headers: [['content-type', 'application/json']],
    body: textBody(BIG),
    responseBody: textBody('{"bulk":"ok"}'),
  }),
  outbound({
    method: 'POST',
    path: '/v1/upload',
    headers: [['content-type', 'text/plain']],
    body: textBody('0123456789', { size: 50, truncated: true }),
    responseBody: textBody('{"upload":"ok"}'),
  }),
];

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** Requests one after another on one keep-alive connection to the responder (plain-host mode). */
function keepAliveClient(port: number) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const sockets = new Set<unknown>();
  const send = (method: string, path: string, body: string | Buffer, headers: Record<string, string> = {}) =>
    new Promise<Reply>((resolve, reject) => {
      const req = request({
        host: '127.0.0.1',
        port,
        method,
        path,
        agent,
        headers: { host: 'api.example.com', ...JSON_TYPE, ...headers },
      });
      req.on('socket', (s) => sockets.add(s));
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }),
        );
      });
      req.on('error', reject);
      req.end(body);
    });
  return { send, sockets: () => sockets.size, close: () => agent.destroy() };
}

describe('responder: requests with bodies', () => {
  let responder: Responder;

  before(async () => {
    responder = await startResponder({ pairs: recording() });
  });
  after(async () => {
    await responder.close();
  });

  it('matches a JSON body by its meaning, recorded answers in recorded order', async () => {
    const client = keepAliveClient(responder.port);
    try {
      const a = await client.send('POST', '/v1/quote', '{ "qty": 1.0, "sku": "a" }');
      assert.deepEqual([a.status, a.body, a.headers['x-reprise-match']], [200, '{"price":10}', 'MATCH']);
      const b1 = await client.send('POST', '/v1/quote', '{"sku":"b","qty":1}');
      const b2 = await client.send('POST', '/v1/quote', '{"qty":1,"sku":"b"}');
      const b3 = await client.send('POST', '/v1/quote', '{"sku":"b","qty":1}');
      assert.deepEqual([b1.body, b2.body, b3.body], ['{"price":20}', '{"price":21}', '{"price":21}']);
      assert.equal(client.sockets(), 1, 'all on one keep-alive connection');
    } finally {
      client.close();
    }
  });

  it('answers a body it has no recording for with a 404 naming its signature, and still serves the next request', async () => {
    const client = keepAliveClient(responder.port);
    try {
      const miss = await client.send('POST', '/v1/quote', '{"sku":"zz","qty":3}');
      assert.equal(miss.status, 404);
      assert.equal(miss.headers['x-reprise-match'], 'NO_MATCH');
      const report = JSON.parse(miss.body) as { request: { signature: string } };
      assert.equal(report.request.signature, 'POST api.example.com/v1/quote json:{"qty":3,"sku":"zz"}');
      const hit = await client.send('POST', '/v1/quote', '{"sku":"a","qty":1}');
      assert.deepEqual([hit.status, hit.body], [200, '{"price":10}']);
      const bigMiss = await client.send('PUT', '/v1/bulk', BIG.replace('row-19999', 'row-x'));
      assert.equal(bigMiss.status, 404);
      assert.match(JSON.parse(bigMiss.body).request.signature, /^PUT api\.example\.com\/v1\/bulk json#/);
      assert.equal(client.sockets(), 1);
    } finally {
      client.close();
    }
  });

  it('matches a body that arrives in many reads, by its hash', async () => {
    const reply = await direct(responder.port, 'api.example.com', '/v1/bulk', {
      method: 'PUT',
      headers: JSON_TYPE,
      body: BIG,
    });
    assert.deepEqual([reply.status, reply.body], [200, '{"bulk":"ok"}']);
  });

  it('matches a live body longer than a recorded body the recorder cut, by its kept prefix', async () => {
    const reply = await viaProxy(responder.port, 'http://api.example.com/v1/upload', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: '0123456789 and the rest of it',
    });
    assert.deepEqual([reply.status, reply.body], [200, '{"upload":"ok"}']);
  });

  it('matches encoded and chunked bodies the same way (decoded, through mockttp)', async () => {
    const gz = await direct(responder.port, 'api.example.com', '/v1/quote', {
      method: 'POST',
      headers: { ...JSON_TYPE, 'content-encoding': 'gzip' },
      body: gzipSync('{"sku":"a","qty":1}'),
    });
    assert.deepEqual([gz.status, gz.body], [200, '{"price":10}']);
    const chunked = await direct(responder.port, 'api.example.com', '/v1/quote', {
      method: 'POST',
      headers: { ...JSON_TYPE, 'transfer-encoding': 'chunked' },
      body: '{"sku":"a","qty":1}',
    });
    assert.deepEqual([chunked.status, chunked.body], [200, '{"price":10}']);
  });

  it('counts every request once', () => {
    const s = responder.stats();
    assert.equal(s.match, 9);
    assert.equal(s.noMatch, 2);
  });
});

describe('responder passthrough: requests with bodies', () => {
  let upstream: Server;
  let upstreamPort: number;
  let responder: Responder;

  before(async () => {
    upstream = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => res.end(`${req.method} ${Buffer.concat(chunks).toString()}`));
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    upstreamPort = (upstream.address() as AddressInfo).port;
    responder = await startResponder({
      pairs: [
        outbound({
          scheme: 'http',
          host: '127.0.0.1',
          port: upstreamPort,
          method: 'POST',
          path: '/known',
          headers: [['content-type', 'application/json']],
          body: textBody('{"k":1}'),
          responseBody: textBody('recorded'),
        }),
      ],
      config: { missPolicy: 'passthrough' },
    });
  });
  after(async () => {
    await responder.close();
    await new Promise((resolve) => upstream.close(resolve));
  });

  it('answers a recorded body from the recording and passes the others through whole', async () => {
    const url = `http://127.0.0.1:${upstreamPort}/known`;
    const hit = await viaProxy(responder.port, url, { method: 'POST', headers: JSON_TYPE, body: '{"k":1}' });
    assert.deepEqual([hit.body, hit.headers['x-reprise-match']], ['recorded', 'MATCH']);
    const small = await viaProxy(responder.port, url, {
      method: 'POST',
      headers: JSON_TYPE,
      body: '{"k":2}',
    });
    assert.deepEqual([small.body, small.headers['x-reprise-match']], ['POST {"k":2}', 'PASSTHROUGH']);
    const big = await viaProxy(responder.port, url, { method: 'POST', headers: JSON_TYPE, body: BIG });
    assert.equal(big.body, `POST ${BIG}`);
    const s = responder.stats();
    assert.deepEqual([s.match, s.passthrough], [1, 2]);
  });
});
