import assert from 'node:assert/strict';
import { readFile, stat, mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';
import { bodyText } from '../../src/model/body.js';
import { headerValue } from '../../src/model/headers.js';
import { RRPair } from '../../src/model/traffic.js';
import { loadCa } from '../../src/tls/ca.js';
import { LeafCertificates } from '../../sidecar/tls-interception.js';
import {
  type ForwarderDouble,
  type Listening,
  listen,
  request,
  sidecarWith,
  startApp,
  startForwarderDouble,
  waitFor,
} from './helpers.js';

/** An HTTPS server with a certificate from its own test CA (not the Reprise one). */
async function startHttpsUpstream(dir: string): Promise<Listening & { caPem: string }> {
  const ca = await loadCa(path.join(dir, 'upstream-ca'));
  const leafs = await LeafCertificates.create(ca);
  const localhost = await leafs.contextFor('localhost');
  // Clients that send no SNI (IP addresses) get the default: the IP certificate.
  const server = https.createServer(
    {
      ...(await leafs.issue('127.0.0.1')),
      SNICallback: (_name, cb) => cb(null, localhost),
      // Also offers a protocol the sidecar cannot record, for a client that asks only for that one.
      ALPNProtocols: ['h2', 'http/1.1', 'acme-tls/1'],
    },
    (req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (p: Buffer) => parts.push(p));
      req.on('end', () => {
        const json = JSON.stringify({ secure: true, url: req.url, body: Buffer.concat(parts).toString() });
        res.writeHead(200, { 'content-type': 'application/json' }).end(json);
      });
    },
  );
  return { ...(await listen(server)), caPem: ca.certPem };
}

/** Opens a CONNECT tunnel through the sidecar and returns the raw socket. */
function connectTunnel(
  proxyPort: number,
  target: string,
): Promise<{ status: number; socket: import('node:net').Socket }> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1',
      port: proxyPort,
      method: 'CONNECT',
      path: target,
      headers: { host: target },
    });
    req.on('connect', (res, socket, head) => {
      // Bytes the upstream sent with the 200 (a server that speaks first) belong to the tunnel.
      if (head.length) socket.unshift(head);
      resolve({ status: res.statusCode ?? 0, socket });
    });
    req.on('response', (res) => resolve({ status: res.statusCode ?? 0, socket: res.socket }));
    req.on('error', reject);
    req.end();
  });
}

/** An HTTPS request over a CONNECT tunnel, trusting `ca`, sending SNI `servername` (none for an IP). */
async function httpsViaTunnel(
  proxyPort: number,
  target: string,
  opts: { ca: string; servername?: string; method?: string; path: string; body?: string },
): Promise<{ status: number; body: string }> {
  const tunnel = await connectTunnel(proxyPort, target);
  assert.equal(tunnel.status, 200);
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: opts.servername ?? target.split(':')[0],
        port: Number(target.split(':')[1]),
        servername: opts.servername,
        method: opts.method ?? 'GET',
        path: opts.path,
        ca: opts.ca,
        // With no agent, https uses createConnection: TLS over the tunnel.
        createConnection: () =>
          tls.connect({
            socket: tunnel.socket,
            host: target.split(':')[0],
            ca: opts.ca,
            servername: opts.servername,
            ALPNProtocols: ['http/1.1'],
          }),
      },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

describe('outbound forward proxy', () => {
  let dir: string;
  let app: Listening;
  let fwd: ForwarderDouble;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'reprise-sidecar-'));
    app = await startApp();
    fwd = await startForwarderDouble();
  });
  after(async () => {
    await app.close();
    await fwd.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('forwards and records absolute-form (HTTP_PROXY) requests as outbound', async () => {
    const sc = await sidecarWith({ inPort: -1, outPort: 0, forwarder: fwd.url, ignorePorts: [1] });
    try {
      const target = `http://127.0.0.1:${app.port}/dep/items?id=7`;
      const res = await request({
        host: '127.0.0.1',
        port: sc.outPort,
        method: 'POST',
        path: target,
        headers: {
          host: `127.0.0.1:${app.port}`,
          'proxy-authorization': 'Basic c2VjcmV0',
          'x-request-id': 'dep-1',
        },
        body: '{"q":1}',
      });
      assert.equal(res.status, 200);
      const echoed = JSON.parse(res.body.toString());
      assert.equal(echoed.url, '/dep/items?id=7', 'the app got origin-form');
      assert.equal(echoed.body, '{"q":1}');
      await waitFor('outbound pair', () => fwd.pairs.some((p) => p.request.path === '/dep/items'));
      const p = fwd.pairs.find((x) => x.request.path === '/dep/items')!;
      RRPair.parse(p);
      assert.equal(p.direction, 'outbound');
      assert.equal(p.request.scheme, 'http');
      assert.equal(p.request.host, '127.0.0.1');
      assert.equal(p.request.port, app.port);
      assert.deepEqual(p.request.query, [['id', '7']]);
      assert.equal(bodyText(p.request.body), '{"q":1}');
      assert.equal(
        headerValue(p.request.headers, 'proxy-authorization'),
        undefined,
        'proxy credentials are not recorded',
      );
      assert.equal(p.response?.status, 200);
      assert.equal(bodyText(p.response?.body), res.body.toString());
    } finally {
      await sc.close();
    }
  });

  it('proxies but does not record ignored destinations; answers 502 for a dead one', async () => {
    const sc = await sidecarWith({ inPort: -1, outPort: 0, forwarder: fwd.url, ignorePorts: [app.port] });
    try {
      const res = await request({
        host: '127.0.0.1',
        port: sc.outPort,
        path: `http://127.0.0.1:${app.port}/ignored-dep`,
      });
      assert.equal(res.status, 200);
      assert.equal(sc.stats().ignored, 1);
      const dead = await request({
        host: '127.0.0.1',
        port: sc.outPort,
        path: 'http://127.0.0.1:1/dead-dep',
      });
      assert.equal(dead.status, 502);
      await waitFor('dead pair', () => fwd.pairs.some((p) => p.request.path === '/dead-dep'));
      assert.equal(fwd.pairs.find((p) => p.request.path === '/dead-dep')?.error?.code, 'ECONNREFUSED');
      assert.ok(!fwd.pairs.some((p) => p.request.path === '/ignored-dep'));
    } finally {
      await sc.close();
    }
  });

  it('intercepts CONNECT with --tls-intercept: the client trusts the Reprise CA, the pair is https', async () => {
    const upstream = await startHttpsUpstream(dir);
    const caDir = path.join(dir, 'reprise-ca');
    const sc = await sidecarWith({
      inPort: -1,
      outPort: 0,
      forwarder: fwd.url,
      tlsIntercept: true,
      caDir,
      upstreamCa: [upstream.caPem],
    });
    try {
      const ca = await readFile(path.join(caDir, 'ca.pem'), 'utf8');
      // SNI `localhost` while the tunnel goes to 127.0.0.1: the leaf follows the SNI.
      const res = await httpsViaTunnel(sc.outPort, `127.0.0.1:${upstream.port}`, {
        ca,
        servername: 'localhost',
        method: 'POST',
        path: '/secure/path?k=v',
        body: 'secret body',
      });
      assert.equal(res.status, 200);
      assert.deepEqual(JSON.parse(res.body), { secure: true, url: '/secure/path?k=v', body: 'secret body' });
      // No SNI at all (an IP address): the leaf is for the CONNECT host.
      const byIp = await httpsViaTunnel(sc.outPort, `127.0.0.1:${upstream.port}`, { ca, path: '/by-ip' });
      assert.equal(byIp.status, 200);
      // A new tunnel for a name already minted: the cached certificate resolves at once.
      const again = await httpsViaTunnel(sc.outPort, `127.0.0.1:${upstream.port}`, {
        ca,
        servername: 'localhost',
        path: '/again',
      });
      assert.equal(again.status, 200);
      await waitFor(
        'https pairs',
        () =>
          fwd.pairs.filter((p) => p.request.path.startsWith('/secure/') || p.request.path === '/by-ip')
            .length === 2,
      );
      const p = fwd.pairs.find((x) => x.request.path === '/secure/path')!;
      RRPair.parse(p);
      assert.equal(p.direction, 'outbound');
      assert.equal(p.request.scheme, 'https');
      assert.equal(p.request.method, 'POST');
      assert.equal(p.request.host, 'localhost');
      assert.equal(p.request.port, upstream.port);
      assert.deepEqual(p.request.query, [['k', 'v']]);
      assert.equal(bodyText(p.request.body), 'secret body');
      assert.equal(bodyText(p.response?.body), res.body);
      const ip = fwd.pairs.find((x) => x.request.path === '/by-ip')!;
      assert.equal(ip.request.scheme, 'https');
      assert.ok(
        !fwd.pairs.some(
          (x) =>
            x.request.method === 'CONNECT' && x.tags.tunnel === 'opaque' && x.request.port === upstream.port,
        ),
      );
    } finally {
      await sc.close();
      await upstream.close();
    }
  });

  it('verifies the upstream certificate: an untrusted one gets 502 and an error pair', async () => {
    const upstream = await startHttpsUpstream(dir);
    const caDir = path.join(dir, 'reprise-ca');
    const sc = await sidecarWith({ inPort: -1, outPort: 0, forwarder: fwd.url, tlsIntercept: true, caDir });
    try {
      const ca = await readFile(path.join(caDir, 'ca.pem'), 'utf8');
      const res = await httpsViaTunnel(sc.outPort, `127.0.0.1:${upstream.port}`, {
        ca,
        servername: 'localhost',
        path: '/untrusted',
      });
      assert.equal(res.status, 502);
      await waitFor('error pair', () => fwd.pairs.some((p) => p.request.path === '/untrusted'));
      assert.match(
        fwd.pairs.find((p) => p.request.path === '/untrusted')!.error!.code,
        /CERT|SIGNATURE|ISSUER/,
      );
    } finally {
      await sc.close();
    }
    const insecure = await sidecarWith({
      inPort: -1,
      outPort: 0,
      forwarder: fwd.url,
      tlsIntercept: true,
      caDir,
      insecureUpstream: true,
    });
    try {
      const ca = await readFile(path.join(caDir, 'ca.pem'), 'utf8');
      const res = await httpsViaTunnel(insecure.outPort, `127.0.0.1:${upstream.port}`, {
        ca,
        servername: 'localhost',
        path: '/insecure',
      });
      assert.equal(res.status, 200, '--insecure-upstream skips verification');
    } finally {
      await insecure.close();
      await upstream.close();
    }
  });

  it('tunnels TLS untouched without interception (one opaque pair), and records plain text in a tunnel', async () => {
    const upstream = await startHttpsUpstream(dir);
    const sc = await sidecarWith({ inPort: -1, outPort: 0, forwarder: fwd.url });
    try {
      // The client trusts the upstream's own CA: nothing in between terminates TLS.
      const res = await httpsViaTunnel(sc.outPort, `127.0.0.1:${upstream.port}`, {
        ca: upstream.caPem,
        servername: 'localhost',
        path: '/opaque',
      });
      assert.equal(res.status, 200);
      await waitFor('CONNECT pair', () =>
        fwd.pairs.some((p) => p.request.method === 'CONNECT' && p.request.port === upstream.port),
      );
      const p = fwd.pairs.find((x) => x.request.method === 'CONNECT' && x.request.port === upstream.port)!;
      RRPair.parse(p);
      assert.equal(p.direction, 'outbound');
      assert.equal(p.request.host, '127.0.0.1');
      assert.equal(p.tags.tunnel, 'opaque');
      assert.equal(p.tags.tls, 'true');
      assert.ok(Number(p.tags.bytesUp) > 0 && Number(p.tags.bytesDown) > 0);
      assert.equal(p.response?.status, 200);
      assert.ok(!fwd.pairs.some((x) => x.request.path === '/opaque'), 'the content stays opaque');

      // Plain text needs no key: recorded as http (grpc-js sends its h2c so, through http_proxy).
      const plain = await connectTunnel(sc.outPort, `127.0.0.1:${app.port}`);
      plain.socket.write(
        `GET /plain-no-intercept HTTP/1.1\r\nHost: 127.0.0.1:${app.port}\r\nConnection: close\r\n\r\n`,
      );
      plain.socket.resume();
      await new Promise((resolve) => plain.socket.on('close', resolve));
      await waitFor('plain pair', () => fwd.pairs.some((x) => x.request.path === '/plain-no-intercept'));
      const q = fwd.pairs.find((x) => x.request.path === '/plain-no-intercept')!;
      assert.equal(q.request.scheme, 'http');
      assert.equal(q.response?.status, 200);
    } finally {
      await sc.close();
      await upstream.close();
    }
  });

  it('without interception, dials before answering CONNECT: a dead upstream gets 502; one that speaks first is not kept waiting', async () => {
    const sc = await sidecarWith({ inPort: -1, outPort: 0, forwarder: fwd.url });
    // A server that greets first, as SMTP or SSH do, then echoes.
    const greeter = await listen(
      net.createServer((s) => {
        s.write('220 greeter ready\r\n');
        s.on('data', (d) => s.write(d));
        s.on('error', () => s.destroy());
      }),
    );
    try {
      const dead = await connectTunnel(sc.outPort, '127.0.0.1:1');
      assert.equal(dead.status, 502);
      dead.socket.destroy();
      await waitFor('dead CONNECT pair', () =>
        fwd.pairs.some((p) => p.request.method === 'CONNECT' && p.request.port === 1),
      );
      const d = fwd.pairs.find((p) => p.request.method === 'CONNECT' && p.request.port === 1)!;
      assert.equal(d.error?.code, 'ECONNREFUSED');

      const greeted = await connectTunnel(sc.outPort, `127.0.0.1:${greeter.port}`);
      assert.equal(greeted.status, 200);
      // The client sends nothing until it is greeted: the greeting must come without it.
      const greeting = await new Promise<string>((resolve) =>
        greeted.socket.once('data', (d: Buffer) => resolve(d.toString())),
      );
      assert.equal(greeting, '220 greeter ready\r\n');
      greeted.socket.write('HELO reprise\r\n');
      const echo = await new Promise<string>((resolve) =>
        greeted.socket.once('data', (d: Buffer) => resolve(d.toString())),
      );
      assert.equal(echo, 'HELO reprise\r\n');
      greeted.socket.end();
      await waitFor('greeter CONNECT pair', () =>
        fwd.pairs.some((p) => p.request.method === 'CONNECT' && p.request.port === greeter.port),
      );
      const g = fwd.pairs.find((p) => p.request.method === 'CONNECT' && p.request.port === greeter.port)!;
      assert.equal(g.tags.tunnel, 'opaque');
      assert.equal(g.tags.reason, 'server-first');
      assert.equal(g.tags.bytesUp, String('HELO reprise\r\n'.length));
    } finally {
      await sc.close();
      await greeter.close();
    }
  });

  it('with interception, records plain HTTP through a tunnel as http and keeps TLS it cannot record opaque', async () => {
    const upstream = await startHttpsUpstream(dir);
    const caDir = path.join(dir, 'reprise-ca');
    const sc = await sidecarWith({ inPort: -1, outPort: 0, forwarder: fwd.url, tlsIntercept: true, caDir });
    try {
      const plain = await connectTunnel(sc.outPort, `127.0.0.1:${app.port}`);
      assert.equal(plain.status, 200);
      plain.socket.write(
        `GET /plain-in-tunnel HTTP/1.1\r\nHost: 127.0.0.1:${app.port}\r\nConnection: close\r\n\r\n`,
      );
      const got = await new Promise<string>((resolve) => {
        let text = '';
        plain.socket.on('data', (d: Buffer) => (text += d.toString()));
        plain.socket.on('close', () => resolve(text));
      });
      assert.match(got, /^HTTP\/1\.1 200/);
      await waitFor('plain pair', () => fwd.pairs.some((p) => p.request.path === '/plain-in-tunnel'));
      assert.equal(fwd.pairs.find((p) => p.request.path === '/plain-in-tunnel')?.request.scheme, 'http');

      // A client asking only for a protocol that cannot be recorded (neither h2 nor http/1.1):
      // its tunnel is left alone (h2 is recorded: h2-capture.test.ts).
      const other = await connectTunnel(sc.outPort, `127.0.0.1:${upstream.port}`);
      const secure = tls.connect({
        socket: other.socket,
        ca: upstream.caPem,
        servername: 'localhost',
        ALPNProtocols: ['acme-tls/1'],
      });
      await new Promise<void>((resolve, reject) => {
        secure.once('secureConnect', resolve);
        secure.once('error', reject);
      });
      assert.equal(secure.alpnProtocol, 'acme-tls/1', 'negotiated with the upstream itself, not the sidecar');
      secure.end();
      await waitFor('alpn pair', () => fwd.pairs.some((p) => p.tags.reason === 'alpn'));
      const p = fwd.pairs.find((x) => x.tags.reason === 'alpn')!;
      assert.equal(p.request.method, 'CONNECT');
      assert.equal(p.tags.alpn, 'acme-tls/1');
    } finally {
      await sc.close();
      await upstream.close();
    }
  });

  it('keeps the CA across restarts: generated once, key file 0600', async () => {
    const caDir = path.join(dir, 'persisted-ca');
    const first = await sidecarWith({ inPort: -1, outPort: 0, tlsIntercept: true, caDir });
    await first.close();
    const cert1 = await readFile(path.join(caDir, 'ca.pem'), 'utf8');
    const key1 = await readFile(path.join(caDir, 'ca-key.pem'), 'utf8');
    assert.equal((await stat(path.join(caDir, 'ca-key.pem'))).mode & 0o777, 0o600);
    const second = await sidecarWith({ inPort: -1, outPort: 0, tlsIntercept: true, caDir });
    await second.close();
    assert.equal(await readFile(path.join(caDir, 'ca.pem'), 'utf8'), cert1);
    assert.equal(await readFile(path.join(caDir, 'ca-key.pem'), 'utf8'), key1);
  });
});
