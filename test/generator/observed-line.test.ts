import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { exchangeLine, type ObservedResponse } from '../../src/generator/observed-writer.js';
import { ResponseParser } from '../../src/generator/response-parser.js';
import type { HeaderList } from '../../src/model/traffic.js';

const HEAD = `"pairId":"p\\"1","request":{"method":"GET","url":"http://t/x?q=\\\\"}`;
const SENT = Date.parse('2024-01-01T00:00:00Z');

/** What the line must be: the members JSON.stringify would write, in the same order. */
function expected(pass: number, latencyMs: number, response: ObservedResponse): string {
  const start = `{${HEAD},"pass":${pass},"sentAt":"2024-01-01T00:00:00.000Z","latencyMs":${latencyMs}`;
  return `${start},"response":${JSON.stringify(response)}}`;
}

describe('observed line', () => {
  it('is the JSON of the response, whatever its body and header text', () => {
    const headers: HeaderList = [
      ['Content-Type', 'text/plain; charset="utf-8"'],
      ['X-Path', 'C:\\temp\\a'],
      ['X-Latin1', 'café'],
    ];
    const responses: ObservedResponse[] = [
      {
        status: 200,
        headers,
        body: { encoding: 'utf8', data: '{"a":"b\\n\u2028"}', size: 14, truncated: false },
      },
      { status: 200, headers, body: { encoding: 'base64', data: 'AAEC', size: 9, truncated: true } },
      {
        status: 201,
        headers: [],
        body: { encoding: 'utf8', data: 'plain', size: 25, truncated: false, decodedFrom: 'gzip' },
      },
      { status: 204, headers },
    ];
    for (const r of responses) {
      const line = exchangeLine(HEAD, 3, SENT, 1.5, { response: r });
      assert.equal(line, expected(3, 1.5, r));
      assert.deepEqual(JSON.parse(line).response, r);
    }
  });

  it('writes sentAt as the ISO time of its ms, whatever order the lines come in', () => {
    const times = [
      Date.parse('2024-01-01T00:00:01.000Z'),
      Date.parse('2024-01-01T00:00:00.999Z'),
      Date.parse('2024-01-01T00:00:01.007Z') + 0.6,
      Date.parse('2024-01-01T00:00:01.045Z'),
      Date.parse('1969-12-31T23:59:59.950Z'),
      Date.parse('2024-01-01T00:00:01.000Z'),
      -62198755200000,
    ];
    for (const ms of times) {
      const line = JSON.parse(exchangeLine(HEAD, 0, ms, 1, { error: 'timeout' })) as { sentAt: string };
      assert.equal(line.sentAt, new Date(Math.floor(ms)).toISOString());
    }
  });

  it('gives responses with the same head the same headers, and tells different heads apart', () => {
    const seen: { status: number; headers: HeaderList; body: string }[] = [];
    let body = '';
    const parser = new ResponseParser({
      onHead: (status, headers) => seen.push({ status, headers, body: '' }),
      onBody: (chunk) => (body += chunk.toString('latin1')),
      onComplete: () => {
        seen[seen.length - 1].body = body;
        body = '';
      },
    });
    const wire = (status: string, length: number, text: string) =>
      Buffer.from(
        `HTTP/1.1 ${status}\r\nContent-Type: text/plain\r\nContent-Length: ${length}\r\n\r\n${text}`,
      );
    for (const [status, text] of [
      ['200 OK', 'abc'],
      ['200 OK', 'xyz'],
      ['200 OK', 'abcd'],
      ['404 Not Found', 'abc'],
    ] as const) {
      parser.expect(false);
      assert.equal(parser.execute(wire(status, text.length, text)), undefined);
    }
    assert.deepEqual(
      seen.map((s) => [s.status, s.headers[1][1], s.body]),
      [
        [200, '3', 'abc'],
        [200, '3', 'xyz'],
        [200, '4', 'abcd'],
        [404, '3', 'abc'],
      ],
    );
  });
});
