/**
 * The generator's own HTTP/2 client (src/generator/h2/client-connection.ts) against nghttpd
 * (plain h2, prior knowledge): responses read whole through padded DATA frames and past our
 * receive windows (WINDOW_UPDATE sent), request bodies sent past a tiny peer window (its
 * WINDOW_UPDATEs obeyed), the peer's SETTINGS_MAX_CONCURRENT_STREAMS taken, many streams on one
 * connection, a missing file as its status, and a cancelled stream leaving the connection usable.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { HeaderList } from '../../src/model/traffic.js';
import { H2ClientConnection, type H2Target } from '../../src/generator/h2/client-connection.js';
import { encodeHeaderBlock, requestFrames } from '../../src/generator/h2/frames-out.js';
import { peerTools, startServer, type Server } from '../protocols/peers.js';

const tools = peerTools();
const big = randomBytes(3_000_000);
const small = randomBytes(5_000);
let doc: string;
let padded: Server;
let tinyWindow: Server;

before(async () => {
  doc = mkdtempSync(path.join(os.tmpdir(), 'reprise-h2-client-'));
  writeFileSync(path.join(doc, 'big.bin'), big);
  writeFileSync(path.join(doc, 'small.bin'), small);
  padded = await startServer(tools.nghttpd, (p) => ['--no-tls', '--padding=16', '-d', doc, String(p)]);
  // A 1 KiB stream window and at most 2 streams at once.
  tinyWindow = await startServer(tools.nghttpd, (p) => [
    '--no-tls',
    '-w',
    '10',
    '-m',
    '2',
    '-d',
    doc,
    String(p),
  ]);
});

after(async () => {
  await padded?.stop();
  await tinyWindow?.stop();
  rmSync(doc, { recursive: true, force: true });
});

interface Answer {
  status: number;
  headers: HeaderList;
  body: Buffer;
  error: string | undefined;
}

function target(server: Server): H2Target {
  return { host: '127.0.0.1', port: server.port, tls: false };
}

/** Sends one request on `conn` and collects its answer. */
function fetch(
  conn: H2ClientConnection,
  server: Server,
  method: string,
  file: string,
  body = Buffer.alloc(0),
) {
  const frames = requestFrames(
    encodeHeaderBlock([
      [':method', method],
      [':scheme', 'http'],
      [':authority', `127.0.0.1:${server.port}`],
      [':path', `/${file}`],
      ['user-agent', 'reprise-test'],
    ]),
    body,
  );
  return new Promise<Answer>((resolve) => {
    const answer: Answer = { status: 0, headers: [], body: Buffer.alloc(0), error: undefined };
    const chunks: Buffer[] = [];
    const id = conn.request(frames, {
      onHeaders: (status, headers) => Object.assign(answer, { status, headers }),
      onData: (chunk) => chunks.push(Buffer.from(chunk)),
      onTrailers: () => undefined,
      onClose: (error) => resolve({ ...answer, error, body: Buffer.concat(chunks) }),
    });
    assert.equal(id % 2, 1, 'client streams are odd');
  });
}

describe('generator: its own HTTP/2 client against nghttpd', () => {
  it('reads a 3 MB file through padded frames, past its receive windows', async () => {
    const conn = new H2ClientConnection(target(padded), () => undefined);
    try {
      const [a, b] = await Promise.all([
        fetch(conn, padded, 'GET', 'big.bin'),
        fetch(conn, padded, 'GET', 'big.bin'),
      ]);
      for (const r of [a, b]) {
        assert.equal(r.error, undefined);
        assert.equal(r.status, 200);
        assert.ok(r.body.equals(big), `got ${r.body.length} bytes`);
        assert.deepEqual(
          r.headers.find(([n]) => n === 'content-length'),
          ['content-length', String(big.length)],
        );
      }
      // 6 MB went through a 16 MiB connection window: later streams still get answers.
      const c = await fetch(conn, padded, 'GET', 'big.bin');
      assert.ok(c.body.equals(big));
    } finally {
      conn.destroy();
    }
  });

  it('sends a body past a 1 KiB peer window, and keeps to 2 concurrent streams', async () => {
    const conn = new H2ClientConnection(target(tinyWindow), () => undefined);
    try {
      const first = await fetch(conn, tinyWindow, 'POST', 'small.bin', randomBytes(200_000));
      assert.equal(first.error, undefined);
      assert.equal(first.status, 200);
      assert.ok(first.body.equals(small));
      assert.equal(conn.peerMaxStreams, 2);
      const many = await Promise.all(
        Array.from({ length: 2 }, () => fetch(conn, tinyWindow, 'POST', 'small.bin', randomBytes(30_000))),
      );
      for (const r of many) assert.ok(r.status === 200 && r.body.equals(small), `${r.status} ${r.error}`);
    } finally {
      conn.destroy();
    }
  });

  it('carries 300 streams on one connection; a missing file is a 404', async () => {
    const conn = new H2ClientConnection(target(padded), () => undefined);
    try {
      const answers = [];
      for (let round = 0; round < 3; round++) {
        answers.push(
          ...(await Promise.all(Array.from({ length: 100 }, () => fetch(conn, padded, 'GET', 'small.bin')))),
        );
      }
      assert.equal(answers.length, 300);
      assert.ok(answers.every((r) => r.status === 200 && r.body.equals(small)));
      const missing = await fetch(conn, padded, 'GET', 'nothing-here');
      assert.equal(missing.status, 404);
      assert.ok(conn.usable);
    } finally {
      conn.destroy();
    }
  });

  it('a cancelled stream ends with its kind and the connection goes on', async () => {
    const conn = new H2ClientConnection(target(padded), () => undefined);
    try {
      const pending = fetch(conn, padded, 'GET', 'big.bin');
      conn.cancel(1, 'timeout');
      assert.equal((await pending).error, 'timeout');
      const next = await fetch(conn, padded, 'GET', 'small.bin');
      assert.ok(next.status === 200 && next.body.equals(small));
    } finally {
      conn.destroy();
    }
  });

  it('ends every stream with the error when the target refuses', async () => {
    const conn = new H2ClientConnection({ host: '127.0.0.1', port: 1, tls: false }, () => undefined);
    const r = await fetch(conn, padded, 'GET', 'small.bin');
    assert.equal(r.error, 'ECONNREFUSED');
    assert.equal(conn.usable, false);
  });
});
