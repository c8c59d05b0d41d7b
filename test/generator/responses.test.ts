import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { runGenerator } from '../../src/generator/index.js';
import { bodyBytes } from '../../src/model/body.js';
import { observed, pairs, tempDir } from './helpers.js';

/** Deterministic text of `size` bytes, different for every `seed`. */
function text(seed: number, size: number): string {
  let out = '';
  for (let i = 0; out.length < size; i++) out += createHash('sha256').update(`${seed}:${i}`).digest('hex');
  return out.slice(0, size);
}

/** How request `i` is answered: the framing and the body. */
function answer(i: number): { head: string; body: Buffer; expected: string } {
  const body = text(i, [300, 150_000, 70_000, 5_000][i % 4]);
  switch (i % 4) {
    case 1: {
      const bytes = Buffer.from(body);
      return { head: `Content-Length: ${bytes.length}`, body: bytes, expected: body };
    }
    case 2: {
      const chunked = body.match(/[\s\S]{1,9000}/g)!.map((c) => `${c.length.toString(16)}\r\n${c}\r\n`);
      return {
        head: 'Transfer-Encoding: chunked',
        body: Buffer.from(chunked.join('') + '0\r\n\r\n'),
        expected: body,
      };
    }
    case 3: {
      const gz = gzipSync(body);
      return { head: `Content-Encoding: gzip\r\nContent-Length: ${gz.length}`, body: gz, expected: body };
    }
    default:
      return { head: `Content-Length: ${body.length}`, body: Buffer.from(body), expected: body };
  }
}

/**
 * A keep-alive HTTP/1.1 server on raw sockets that writes each response in small pieces with
 * pauses between them, so responses of several connections arrive interleaved, split at any byte.
 */
async function startPiecewiseTarget(): Promise<{ url: string; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let pending = '';
    socket.on('data', (d: Buffer) => {
      pending += d.toString('latin1');
      for (let end = pending.indexOf('\r\n\r\n'); end !== -1; end = pending.indexOf('\r\n\r\n')) {
        const i = Number(/^GET \/items\/(\d+)/.exec(pending)?.[1]);
        pending = pending.slice(end + 4);
        const a = answer(i);
        const wire = Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\n${a.head}\r\n\r\n`, 'latin1'), a.body]);
        const pieces: Buffer[] = [];
        for (let at = 0, step = 1 + (i % 7); at < wire.length; at += step, step = step * 3 + 1)
          pieces.push(wire.subarray(at, at + step));
        const next = () => {
          const piece = pieces.shift();
          if (piece && !socket.destroyed) socket.write(piece, () => setImmediate(next));
        };
        next();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('generator: responses split across reads', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  before(async () => {
    tmp = await tempDir();
  });
  after(async () => {
    await tmp.remove();
  });

  it('observes every body whole, however the responses of many connections interleave', async () => {
    const target = await startPiecewiseTarget();
    try {
      const file = path.join(tmp.dir, 'split.ndjson.gz');
      const summary = await runGenerator({
        pairs: pairs(64),
        target: target.url,
        load: { connections: 8 },
        observedPath: file,
      });
      assert.deepEqual([summary.requests, summary.responses, summary.errors], [64, 64, 0]);
      const lines = await observed(file);
      assert.equal(lines.length, 64);
      for (const line of lines) {
        const i = Number(line.pairId.split('-')[1]);
        const body = line.response!.body!;
        assert.equal(bodyBytes(body).toString(), answer(i).expected, `body of ${line.pairId}`);
        assert.equal(body.truncated, false);
      }
    } finally {
      await target.close();
    }
  });
});
