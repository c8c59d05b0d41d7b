import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { bodyBytes, bodyText } from '../../src/model/body.js';
import { headerValue } from '../../src/model/headers.js';
import { RRPair } from '../../src/model/traffic.js';
import type { Sidecar } from '../../sidecar/index.js';
import {
  type ForwarderDouble,
  type Listening,
  pairsByPath,
  patterned,
  rawExchange,
  request,
  sidecarWith,
  startApp,
  startForwarderDouble,
  waitFor,
} from './helpers.js';

describe('inbound reverse proxy', () => {
  let app: Listening;
  let fwd: ForwarderDouble;
  let sc: Sidecar;
  before(async () => {
    app = await startApp();
    fwd = await startForwarderDouble();
    sc = await sidecarWith({ appPort: app.port, forwarder: fwd.url, maxBody: 4096, service: 'orders' });
  });
  after(async () => {
    await sc.close();
    await app.close();
    await fwd.close();
  });

  it('records 1,000 requests over 20 keep-alive connections: each once, bodies and statuses right', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 20 });
    const statusOf = (i: number) => (i % 10 === 3 ? 201 : i % 10 === 7 ? 404 : 200);
    const results = await Promise.all(
      Array.from({ length: 1000 }, (_, i) =>
        request({
          port: sc.inPort,
          host: '127.0.0.1',
          agent,
          method: i % 2 ? 'POST' : 'GET',
          path: `/load/${i}?i=${i}&status=${statusOf(i)}`,
          headers: { 'x-request-id': `req-${i}` },
          body: i % 2 ? `payload-${i}` : undefined,
        }),
      ),
    );
    agent.destroy();
    results.forEach((r, i) => assert.equal(r.status, statusOf(i)));
    // Wait until everything recorded has been shipped, so a late duplicate would be counted too.
    await waitFor('1000 pairs, all shipped', () => {
      const s = sc.stats();
      return (
        s.shipped === s.pairs && fwd.pairs.filter((p) => p.request.path.startsWith('/load/')).length >= 1000
      );
    });
    const pairs = fwd.pairs.filter((p) => p.request.path.startsWith('/load/'));
    assert.equal(pairs.length, 1000);
    const seen = new Set<string>();
    for (const p of pairs) {
      RRPair.parse(p);
      const id = headerValue(p.request.headers, 'x-request-id')!;
      assert.ok(!seen.has(id), `${id} recorded twice`);
      seen.add(id);
      const i = Number(id.slice(4));
      assert.equal(p.direction, 'inbound');
      assert.equal(p.service, 'orders');
      assert.equal(p.request.path, `/load/${i}`);
      assert.deepEqual(p.request.query, [
        ['i', String(i)],
        ['status', String(statusOf(i))],
      ]);
      assert.equal(p.request.host, '127.0.0.1');
      assert.equal(p.request.port, sc.inPort);
      assert.equal(p.request.method, i % 2 ? 'POST' : 'GET');
      assert.equal(bodyText(p.request.body), i % 2 ? `payload-${i}` : '');
      assert.equal(p.response?.status, statusOf(i));
      const echoed = JSON.parse(bodyText(p.response?.body));
      assert.equal(echoed.id, id);
      assert.equal(echoed.body, i % 2 ? `payload-${i}` : '');
    }
    assert.equal(seen.size, 1000);
    assert.equal(new Set(pairs.map((p) => p.id)).size, 1000, 'pair ids are unique');
  });

  it('records chunked request and response bodies decoded', async () => {
    const res = await request({
      port: sc.inPort,
      host: '127.0.0.1',
      method: 'POST',
      path: '/chunked',
      chunks: ['first,', 'second,', 'third'],
    });
    assert.equal(res.headers['transfer-encoding'], 'chunked');
    assert.equal(JSON.parse(res.body.toString()).body, 'first,second,third');
    await waitFor('chunked pair', () => pairsByPath(fwd.pairs, '/chunked').length === 1);
    const [p] = pairsByPath(fwd.pairs, '/chunked');
    assert.equal(headerValue(p.request.headers, 'transfer-encoding'), 'chunked');
    assert.equal(bodyText(p.request.body), 'first,second,third');
    assert.equal(p.request.body?.size, 'first,second,third'.length);
    assert.equal(bodyText(p.response?.body), res.body.toString());
    assert.equal(p.response?.body?.truncated, false);
  });

  it('pairs pipelined requests with their responses in order, HEAD and 204 without bodies', async () => {
    const host = `Host: app.local:8080\r\n`;
    const wire =
      `GET /pipe/1?x=a%20b HTTP/1.1\r\n${host}\r\n` +
      `HEAD /pipe/2 HTTP/1.1\r\n${host}\r\n` +
      `POST /pipe/3 HTTP/1.1\r\n${host}Content-Length: 5\r\n\r\nhello` +
      `DELETE /pipe/4?status=204 HTTP/1.1\r\n${host}\r\n` +
      `POST /pipe/5 HTTP/1.1\r\n${host}Transfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: t\r\n\r\n` +
      `GET /pipe/6 HTTP/1.1\r\n${host}Connection: close\r\n\r\n`;
    const got = await rawExchange(sc.inPort, wire);
    assert.equal(got.toString().match(/HTTP\/1\.1 \d{3}/g)?.length, 6);
    await waitFor(
      '6 pipelined pairs',
      () => fwd.pairs.filter((p) => p.request.path.startsWith('/pipe/')).length === 6,
    );
    const pairs = fwd.pairs.filter((p) => p.request.path.startsWith('/pipe/'));
    assert.deepEqual(
      pairs.map((p) => [p.request.method, p.request.path, p.response?.status]),
      [
        ['GET', '/pipe/1', 200],
        ['HEAD', '/pipe/2', 200],
        ['POST', '/pipe/3', 200],
        ['DELETE', '/pipe/4', 204],
        ['POST', '/pipe/5', 200],
        ['GET', '/pipe/6', 200],
      ],
    );
    for (const p of pairs) {
      assert.equal(p.request.host, 'app.local');
      assert.equal(p.request.port, 8080);
      if (p.response?.body)
        assert.equal(
          JSON.parse(bodyText(p.response.body)).url,
          p.request.path +
            (p.request.path === '/pipe/1' ? '?x=a%20b' : p.request.path === '/pipe/4' ? '?status=204' : ''),
        );
    }
    assert.deepEqual(pairs[0].request.query, [['x', 'a b']]);
    assert.equal(pairs[1].response?.body, undefined, 'a HEAD response has no body');
    assert.equal(pairs[3].response?.body, undefined, 'a 204 has no body');
    assert.equal(bodyText(pairs[2].request.body), 'hello');
    assert.equal(bodyText(pairs[4].request.body), 'abcde');
  });

  it('marks a body past --max-body truncated with its true size; the client gets every byte', async () => {
    const n = 200_000;
    const res = await request({ port: sc.inPort, host: '127.0.0.1', path: `/bytes?n=${n}` });
    assert.equal(res.status, 200);
    assert.ok(res.body.equals(patterned(n)), 'proxied body is byte-identical');
    const upload = patterned(50_000);
    const up = await request({
      port: sc.inPort,
      host: '127.0.0.1',
      method: 'POST',
      path: '/upload',
      body: upload,
    });
    assert.equal(up.status, 200);
    await waitFor(
      'big pairs',
      () => pairsByPath(fwd.pairs, '/bytes').length === 1 && pairsByPath(fwd.pairs, '/upload').length === 1,
    );
    const [big] = pairsByPath(fwd.pairs, '/bytes');
    assert.equal(big.response?.body?.truncated, true);
    assert.equal(big.response?.body?.size, n);
    assert.ok(bodyBytes(big.response?.body).equals(patterned(4096)), 'the first max-body bytes are kept');
    const [upl] = pairsByPath(fwd.pairs, '/upload');
    assert.equal(upl.request.body?.truncated, true);
    assert.equal(upl.request.body?.size, 50_000);
    assert.equal(bodyBytes(upl.request.body).length, 4096);
  });

  it('does not record ignored paths, but proxies and counts them', async () => {
    const before = sc.stats().ignored;
    const res = await request({ port: sc.inPort, host: '127.0.0.1', path: '/healthz' });
    assert.equal(res.status, 200);
    await waitFor('ignored count', () => sc.stats().ignored === before + 1);
    // Something recorded after it proves it was not merely late.
    await request({ port: sc.inPort, host: '127.0.0.1', path: '/after-healthz' });
    await waitFor('later pair', () => pairsByPath(fwd.pairs, '/after-healthz').length === 1);
    assert.equal(pairsByPath(fwd.pairs, '/healthz').length, 0);
  });

  it('records a 100-continue exchange once, with the body and the final status', async () => {
    const res = await new Promise<number>((resolve, reject) => {
      const req = http.request({
        port: sc.inPort,
        host: '127.0.0.1',
        method: 'PUT',
        path: '/continue',
        headers: { expect: '100-continue', 'content-length': 4 },
      });
      req.on('continue', () => req.end('body'));
      req.on('response', (r) => {
        r.resume();
        r.on('end', () => resolve(r.statusCode ?? 0));
      });
      req.on('error', reject);
    });
    assert.equal(res, 200);
    await waitFor('continue pair', () => pairsByPath(fwd.pairs, '/continue').length === 1);
    const [p] = pairsByPath(fwd.pairs, '/continue');
    assert.equal(p.response?.status, 200);
    assert.equal(bodyText(p.request.body), 'body');
  });
});

describe('inbound edge cases', () => {
  let fwd: ForwarderDouble;
  before(async () => {
    fwd = await startForwarderDouble();
  });
  after(() => fwd.close());

  it('on close, lets an in-flight exchange finish and ships its pair', async () => {
    const app = await startApp();
    const sc = await sidecarWith({ appPort: app.port, forwarder: fwd.url, flushMs: 60_000 });
    try {
      const slow = request({ port: sc.inPort, host: '127.0.0.1', path: '/slow?delay=300' });
      // Once the app has it, the sidecar has seen it too (bytes are teed before they are forwarded).
      await waitFor('the request reached the app', () => app.received === 1);
      const final = await sc.close();
      assert.equal((await slow).status, 200);
      assert.equal(final.shipped, 1);
      assert.equal(pairsByPath(fwd.pairs, '/slow')[0]?.response?.status, 200);
    } finally {
      await sc.close();
      await app.close();
    }
  });

  it('proxies clients from ignored source IPs without recording them', async () => {
    const app = await startApp();
    const sc = await sidecarWith({ appPort: app.port, forwarder: fwd.url, ignoreSrcIps: ['127.0.0.1'] });
    try {
      for (const i of [1, 2, 3])
        assert.equal(
          (await request({ port: sc.inPort, host: '127.0.0.1', path: `/from-ignored/${i}` })).status,
          200,
        );
      await waitFor('3 ignored', () => sc.stats().ignored === 3);
      assert.equal(sc.stats().pairs, 0);
    } finally {
      await sc.close();
      await app.close();
    }
  });

  it('answers 502 when the app refuses, and records the pair with the error', async () => {
    const closed = net.createServer();
    const { port } = await new Promise<net.AddressInfo>((r) =>
      closed.listen(0, '127.0.0.1', () => r(closed.address() as net.AddressInfo)),
    );
    await new Promise((r) => closed.close(r));
    const sc = await sidecarWith({ appPort: port, forwarder: fwd.url });
    try {
      const res = await request({ port: sc.inPort, host: '127.0.0.1', path: '/refused?q=1' });
      assert.equal(res.status, 502);
      await waitFor('refused pair', () => pairsByPath(fwd.pairs, '/refused').length === 1);
      const [p] = pairsByPath(fwd.pairs, '/refused');
      assert.equal(p.error?.code, 'ECONNREFUSED');
      assert.equal(p.response, undefined);
      RRPair.parse(p);
    } finally {
      await sc.close();
    }
  });

  it('records a close-delimited response, and an upgrade (101) pair while the upgraded bytes flow', async () => {
    // A hand-written app: HTTP/1.0-style close-delimited answers, and a 101 followed by an echo.
    const app = net.createServer((s) => {
      let buf = '';
      s.on('data', (d: Buffer) => {
        buf += d.toString('latin1');
        if (!buf.includes('\r\n\r\n')) return;
        if (buf.startsWith('GET /close')) {
          s.end('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end');
        } else if (buf.startsWith('GET /upgrade')) {
          s.removeAllListeners('data');
          s.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n');
          const rest = buf.slice(buf.indexOf('\r\n\r\n') + 4);
          if (rest) s.write(rest);
          s.pipe(s);
        }
      });
    });
    const appL = await new Promise<net.AddressInfo>((r) =>
      app.listen(0, '127.0.0.1', () => r(app.address() as net.AddressInfo)),
    );
    const sc = await sidecarWith({ appPort: appL.port, forwarder: fwd.url });
    try {
      const closeRes = await rawExchange(sc.inPort, 'GET /close HTTP/1.1\r\nHost: a\r\n\r\n');
      assert.match(closeRes.toString(), /until the end$/);
      const echoed = await rawExchange(
        sc.inPort,
        'GET /upgrade HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nGET /not-http HTTP/1.1\r\n\r\n',
        { endAfter: (got) => got.toString().endsWith('/not-http HTTP/1.1\r\n\r\n') },
      );
      assert.match(echoed.toString(), /^HTTP\/1\.1 101/);
      await waitFor(
        'close + upgrade pairs',
        () =>
          pairsByPath(fwd.pairs, '/upgrade').length === 1 && pairsByPath(fwd.pairs, '/close').length === 1,
      );
      const [c] = pairsByPath(fwd.pairs, '/close');
      assert.equal(bodyText(c.response?.body), 'until the end');
      const [u] = pairsByPath(fwd.pairs, '/upgrade');
      assert.equal(u.response?.status, 101);
      assert.equal(u.tags.upgrade, 'echo');
      assert.equal(
        pairsByPath(fwd.pairs, '/not-http').length,
        0,
        'bytes after the upgrade are not parsed as HTTP',
      );
      assert.equal(sc.stats().parseErrors, 0);
    } finally {
      await sc.close();
      await new Promise((r) => app.close(r));
    }
  });

  it('pipes h2c prior-knowledge and malformed bytes untouched, counted, never recorded', async () => {
    const echo = net.createServer((s) => s.pipe(s));
    const echoL = await new Promise<net.AddressInfo>((r) =>
      echo.listen(0, '127.0.0.1', () => r(echo.address() as net.AddressInfo)),
    );
    const sc = await sidecarWith({ appPort: echoL.port, forwarder: fwd.url });
    try {
      const preface = Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), patterned(3000)]);
      const back = await rawExchange(sc.inPort, preface, { endAfter: (got) => got.length >= preface.length });
      assert.ok(back.equals(preface));
      const junk = Buffer.from('NOT HTTP AT ALL\r\n\r\n\x00\x01\x02');
      const back2 = await rawExchange(sc.inPort, junk, { endAfter: (got) => got.length >= junk.length });
      assert.ok(back2.equals(junk));
      await waitFor('counts', () => sc.stats().unparsed === 1 && sc.stats().parseErrors === 1);
      assert.equal(sc.stats().pairs, 0);
    } finally {
      await sc.close();
      await new Promise((r) => echo.close(r));
    }
  });
});
