import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ResponseParser } from '../../src/generator/response-parser.js';
import type { HeaderList } from '../../src/model/traffic.js';

interface Parsed {
  status?: number;
  headers?: HeaderList;
  encoding?: string;
  body: string;
  complete: boolean;
  keepAlive?: boolean;
  error?: string;
}

/** Feeds `wire` in pieces of `step` bytes (every split point gets exercised). */
function parse(wire: string, step: number, noBody = false): Parsed {
  const out: Parsed = { body: '', complete: false };
  const parser = new ResponseParser({
    onHead: (status, headers, encoding) => Object.assign(out, { status, headers, encoding }),
    onBody: (chunk) => (out.body += chunk.toString('latin1')),
    onComplete: (keepAlive) => Object.assign(out, { complete: true, keepAlive }),
  });
  parser.expect(noBody);
  const bytes = Buffer.from(wire, 'latin1');
  for (let i = 0; i < bytes.length && !out.complete && !out.error; i += step) {
    out.error = parser.execute(bytes.subarray(i, i + step));
  }
  return out;
}

/** The same assertion for every way of cutting the bytes. */
function eachSplit(wire: string, check: (p: Parsed) => void, noBody = false): void {
  for (const step of [1, 2, 3, 7, 64, wire.length]) check(parse(wire, step, noBody));
}

describe('response parser', () => {
  it('reads a content-length body, headers in order and case as received', () => {
    eachSplit(
      'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"a":"b c"}',
      (p) => {
        assert.equal(p.status, 200);
        assert.deepEqual(p.headers, [
          ['Content-Type', 'application/json'],
          ['Content-Length', '11'],
        ]);
        assert.equal(p.body, '{"a":"b c"}');
        assert.deepEqual([p.complete, p.keepAlive], [true, true]);
      },
    );
  });

  it('reads a chunked body with extensions and trailers', () => {
    const wire =
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Encoding: GZIP\r\n\r\n' +
      '4;ext=1\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nX-Trailer: t\r\n\r\n';
    eachSplit(wire, (p) => {
      assert.equal(p.body, 'Wikipedia in\r\n\r\nchunks.');
      assert.equal(p.encoding, 'gzip');
      assert.deepEqual([p.complete, p.keepAlive], [true, true]);
    });
  });

  it('has no body for HEAD, 204 and 304, and skips interim 1xx responses', () => {
    eachSplit(
      'HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n',
      (p) => assert.deepEqual([p.complete, p.body], [true, '']),
      true,
    );
    eachSplit('HTTP/1.1 204 No Content\r\n\r\n', (p) =>
      assert.deepEqual([p.status, p.complete], [204, true]),
    );
    eachSplit('HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n', (p) =>
      assert.deepEqual([p.status, p.complete], [304, true]),
    );
    eachSplit('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok', (p) =>
      assert.deepEqual([p.status, p.body, p.complete], [201, 'ok', true]),
    );
  });

  it('reads a body delimited by the close, and marks the connection single-use', () => {
    const out: Parsed = { body: '', complete: false };
    const parser = new ResponseParser({
      onHead: (status) => (out.status = status),
      onBody: (chunk) => (out.body += chunk.toString()),
      onComplete: (keepAlive) => Object.assign(out, { complete: true, keepAlive }),
    });
    parser.expect(false);
    assert.equal(parser.execute(Buffer.from('HTTP/1.0 200 OK\r\n\r\nhello ')), undefined);
    parser.execute(Buffer.from('world'));
    assert.equal(out.complete, false);
    assert.equal(parser.readsUntilClose, true);
    assert.equal(parser.finish(), true);
    assert.deepEqual([out.body, out.complete, out.keepAlive], ['hello world', true, false]);
  });

  it('honours Connection: close and HTTP/1.0 keep-alive', () => {
    eachSplit('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx', (p) =>
      assert.equal(p.keepAlive, false),
    );
    eachSplit('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nx', (p) =>
      assert.equal(p.keepAlive, true),
    );
    eachSplit('HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx', (p) => assert.equal(p.keepAlive, false));
  });

  it('does not reuse a connection that sent bytes past the response', () => {
    const p = parse('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxEXTRA', 1000);
    assert.deepEqual([p.complete, p.keepAlive, p.body], [true, false, 'x']);
  });

  it('rejects what is not an HTTP/1.x response', () => {
    assert.equal(parse('SSH-2.0-OpenSSH\r\n\r\n', 100).error, 'bad status line');
    assert.equal(parse('HTTP/1.1 abc OK\r\n\r\n', 100).error, 'bad status code');
    assert.equal(parse('HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n', 100).error, 'bad content-length');
    assert.equal(
      parse('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 100).error,
      'bad chunk size',
    );
    assert.equal(parse(`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(70_000)}`, 4096).error, 'response head too large');
  });
});
