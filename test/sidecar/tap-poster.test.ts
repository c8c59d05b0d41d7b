/**
 * The shipper's own HTTP/1.1 client (sidecar/tap-poster.ts) against raw TCP servers on loopback
 * that answer the way HTTP/1.1 allows: it keeps one connection alive, opens another after
 * `connection: close`, skips a chunked body, reads an answer without a length until close,
 * passes over an interim 100, times out on silence, and sends no header it cannot frame; over
 * TLS (an https forwarder URL) it checks the forwarder's certificate against the trusted CAs.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { after, describe, it } from 'node:test';
import { TapPoster } from '../../sidecar/tap-poster.js';
import { LeafCertificates } from '../../sidecar/tls-interception.js';
import { loadCa } from '../../src/tls/ca.js';

interface Received {
  head: string;
  body: Buffer;
  connection: number;
}

/** A server reading whole requests (head, Content-Length body) and answering each with `answer`. */
async function rawServer(answer: (r: Received, socket: net.Socket) => void) {
  const received: Received[] = [];
  let connections = 0;
  const server = net.createServer((socket) => {
    const connection = ++connections;
    let buf = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end === -1) return;
        const head = buf.toString('latin1', 0, end);
        const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
        if (buf.length < end + 4 + length) return;
        const r = { head, body: buf.subarray(end + 4, end + 4 + length), connection };
        buf = buf.subarray(end + 4 + length);
        received.push(r);
        answer(r, socket);
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = new URL(`http://127.0.0.1:${(server.address() as net.AddressInfo).port}/v1/tap`);
  return { url, received, close: () => new Promise((r) => server.close(r)) };
}

type Served = Awaited<ReturnType<typeof rawServer>>;

/** Two batches on one poster: the answers' statuses, and the connection each batch came on. */
async function postTwice(s: Served): Promise<{ statuses: number[]; connections: number[] }> {
  const poster = new TapPoster(s.url);
  const statuses = [
    await poster.post({}, Buffer.from('a'), 2000),
    await poster.post({}, Buffer.from('b'), 2000),
  ];
  poster.destroy();
  return { statuses, connections: s.received.map((r) => r.connection) };
}

describe('the tap poster', () => {
  const closers: (() => Promise<unknown>)[] = [];
  after(() => Promise.all(closers.map((c) => c())));
  const serve = async (answer: (r: Received, socket: net.Socket) => void) => {
    const s = await rawServer(answer);
    closers.push(s.close);
    return s;
  };

  it('sends the head and the batch whole, and keeps one connection for the next', async () => {
    const s = await serve((_, socket) =>
      socket.write('HTTP/1.1 202 Accepted\r\ncontent-length: 14\r\n\r\n{"accepted":1}'),
    );
    const poster = new TapPoster(s.url);
    const batch = Buffer.from([0, 1, 2, 13, 10, 13, 10, 255]);
    assert.equal(await poster.post({ 'x-reprise-seq': 1, 'x-reprise-service': 'orders' }, batch, 2000), 202);
    assert.equal(await poster.post({ 'x-reprise-seq': 2 }, batch, 2000), 202);
    poster.destroy();
    assert.deepEqual(
      s.received.map((r) => r.connection),
      [1, 1],
    );
    assert.match(s.received[0].head, /^POST \/v1\/tap HTTP\/1\.1\r\nhost: 127\.0\.0\.1:\d+\r\n/);
    assert.match(s.received[0].head, /\r\nx-reprise-service: orders\r\n/);
    assert.match(s.received[1].head, /\r\nx-reprise-seq: 2\r\ncontent-length: 8$/);
    assert.deepEqual(s.received[1].body, batch);
  });

  it('opens a new connection after an answer that says connection: close', async () => {
    const s = await serve((_, socket) =>
      socket.write('HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n'),
    );
    assert.deepEqual(await postTwice(s), { statuses: [204, 204], connections: [1, 2] });
  });

  it('skips a chunked body (trailers included) and an interim 100, and reuses the connection', async () => {
    const s = await serve((_, socket) => {
      socket.write(
        'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 202 Accepted\r\ntransfer-encoding: chunked\r\n\r\n',
      );
      // Split inside a size line and inside the data.
      socket.write('5\r\nhel');
      socket.write('lo\r\n1');
      socket.write('0\r\n0123456789abcdef\r\n0\r\nx-trailer: yes\r\n\r\n');
    });
    assert.deepEqual(await postTwice(s), { statuses: [202, 202], connections: [1, 1] });
  });

  it('reads an answer without a length until the connection closes', async () => {
    const s = await serve((_, socket) =>
      socket.end('HTTP/1.0 503 Service Unavailable\r\n\r\nbusy, come back'),
    );
    assert.deepEqual(await postTwice(s), { statuses: [503, 503], connections: [1, 2] });
  });

  it('gives up on a silent forwarder after the timeout, and the next request gets a new connection', async () => {
    let answered = 0;
    const s = await serve((_, socket) => {
      if (answered++ > 0) socket.write('HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n');
    });
    const poster = new TapPoster(s.url);
    await assert.rejects(poster.post({}, Buffer.from('a'), 200), /no answer within 200 ms/);
    assert.equal(await poster.post({}, Buffer.from('b'), 2000), 202);
    poster.destroy();
    assert.deepEqual(
      s.received.map((r) => r.connection),
      [1, 2],
    );
  });

  it('refuses a header value with a line break before sending anything', async () => {
    const s = await serve((_, socket) => socket.write('HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n'));
    const poster = new TapPoster(s.url);
    await assert.rejects(
      poster.post({ 'x-reprise-service': 'orders\r\nx-injected: 1' }, Buffer.from('a'), 2000),
      /header x-reprise-service: expected visible latin1 characters/,
    );
    assert.equal(await poster.post({ 'x-reprise-service': 'orders' }, Buffer.from('b'), 2000), 202);
    poster.destroy();
    assert.equal(s.received.length, 1);
    assert.doesNotMatch(s.received[0].head, /x-injected/);
  });

  it('fails when the forwarder answers something that is not HTTP', async () => {
    const s = await serve((_, socket) => socket.write('SSH-2.0-OpenSSH\r\n\r\n'));
    const poster = new TapPoster(s.url);
    await assert.rejects(poster.post({}, Buffer.from('a'), 2000), /something else than HTTP\/1\.x/);
  });

  it('posts over TLS to an https URL, trusting only the CAs Node trusts', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'reprise-poster-tls-'));
    closers.push(() => rm(dir, { recursive: true, force: true }));
    const ca = await loadCa(dir);
    const leaf = await (await LeafCertificates.create(ca)).issue('localhost');
    const names: (string | false | null)[] = [];
    const server = tls.createServer({ key: leaf.key, cert: leaf.cert }, (socket) => {
      names.push((socket as tls.TLSSocket).servername);
      socket.on('data', () => socket.write('HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n'));
      socket.on('error', () => undefined);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    closers.push(() => new Promise((r) => server.close(r)));
    const url = `https://localhost:${(server.address() as net.AddressInfo).port}/v1/tap`;
    // A process of its own: NODE_EXTRA_CA_CERTS is read once, at start-up.
    const script =
      `import { TapPoster } from ${JSON.stringify(new URL('../../sidecar/tap-poster.js', import.meta.url).href)};` +
      `const p = new TapPoster(new URL(process.argv[1]));` +
      `try { console.log(await p.post({}, Buffer.from('x'), 3000)); } catch (e) { console.log(e.code ?? e.message); }` +
      `p.destroy();`;
    const run = async (env: NodeJS.ProcessEnv) =>
      (
        await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script, url], { env })
      ).stdout.trim();
    assert.equal(await run({ ...process.env, NODE_EXTRA_CA_CERTS: ca.certPath }), '202');
    assert.deepEqual(names, ['localhost']);
    const { NODE_EXTRA_CA_CERTS: _, ...untrusting } = process.env;
    assert.match(await run(untrusting), /UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|UNABLE_TO_GET_ISSUER/);
  });
});
