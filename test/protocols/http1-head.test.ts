/**
 * src/protocols/http1/head.ts reads a head in one scan of its text (the forwarder does this for
 * every recorded exchange). Here it is held to a plain reference written the obvious way (split
 * into lines, String.prototype.trim) on generated heads, valid and broken, and on named cases.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ParseError } from '../../src/protocols/http1/framing.js';
import { parseHead, type MessageHead } from '../../src/protocols/http1/head.js';
import { seeded } from '../helpers/seeded.js';

/** The reference: what head.ts must return (or throw), line by line. */
function reference(text: string, kind: 'request' | 'response'): MessageHead {
  const lines = text.split('\r\n');
  const first = lines[0];
  const head: MessageHead & { transferEncoding?: boolean } = {
    method: '',
    target: '',
    status: 0,
    statusText: '',
    version: '',
    headers: [],
    contentLength: -1,
    chunked: false,
    upgrade: '',
  };
  if (kind === 'request') {
    const sp1 = first.indexOf(' ');
    const sp2 = first.lastIndexOf(' ');
    if (sp1 <= 0 || sp2 <= sp1) throw new ParseError('bad request line');
    const method = first.slice(0, sp1);
    const version = first.slice(sp2 + 1);
    if (method === 'PRI' && version === 'HTTP/2.0') throw new ParseError('HTTP/2 connection preface', 'h2c');
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(method)) throw new ParseError('bad method');
    if (version !== 'HTTP/1.1' && version !== 'HTTP/1.0') throw new ParseError('bad HTTP version');
    Object.assign(head, { method, target: first.slice(sp1 + 1, sp2), version: version.slice(5) });
  } else {
    const version = first.slice(0, 8);
    if ((version !== 'HTTP/1.1' && version !== 'HTTP/1.0') || first.charCodeAt(8) !== 32)
      throw new ParseError('bad status line');
    const code = first.slice(9, 12);
    if (!/^[1-9]\d\d$/.test(code) || (first.length > 12 && first.charCodeAt(12) !== 32))
      throw new ParseError('bad status code');
    Object.assign(head, { status: Number(code), statusText: first.slice(13), version: version.slice(5) });
  }
  let connectionUpgrade = false;
  let upgrade = '';
  // The four headers that frame a message, each read as it comes (errors in header order).
  const framing = new Map<string, (value: string) => void>([
    [
      'content-length',
      (value) =>
        value.split(',').forEach((part) => {
          const len = /^\d{1,15}$/.test(part.trim()) ? Number(part.trim()) : NaN;
          if (Number.isNaN(len)) throw new ParseError('bad content-length');
          if (![-1, len].includes(head.contentLength)) throw new ParseError('conflicting content-length');
          head.contentLength = len;
        }),
    ],
    [
      'transfer-encoding',
      (value) => {
        head.transferEncoding = true;
        head.chunked = value.toLowerCase().split(',').pop()!.trim() === 'chunked';
      },
    ],
    ['connection', (value) => void (connectionUpgrade ||= /(^|,)\s*upgrade\s*(,|$)/i.test(value))],
    ['upgrade', (value) => void (upgrade = value)],
  ]);
  for (const line of lines.slice(1)) {
    if (line[0] === ' ' || line[0] === '\t') {
      if (head.headers.length === 0) throw new ParseError('continuation without a header');
      const last = head.headers[head.headers.length - 1];
      last[1] = `${last[1]} ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) throw new ParseError('bad header line');
    const name = line.slice(0, colon);
    const value = line.slice(colon + 1).trim();
    head.headers.push([name, value]);
    framing.get(name.toLowerCase())?.(value);
  }
  if (head.transferEncoding) head.contentLength = -1;
  if (connectionUpgrade && upgrade) head.upgrade = upgrade;
  if (kind === 'request' && !head.chunked && head.transferEncoding)
    throw new ParseError('request body length unknown');
  delete head.transferEncoding;
  return head;
}

/** Either the head as plain data or the error's message and code. */
function outcome(read: () => MessageHead): unknown {
  try {
    const head = read() as MessageHead & { transferEncoding?: boolean };
    const { transferEncoding: _, ...rest } = head;
    return rest;
  } catch (err) {
    assert.ok(err instanceof ParseError, `threw ${String(err)}`);
    return { error: err.message, code: err.code };
  }
}

const REQUEST_LINES = [
  'GET /a?b=1 HTTP/1.1',
  'POST /x HTTP/1.0',
  'GET  HTTP/1.1',
  'GET /',
  'PRI * HTTP/2.0',
  'G@T / HTTP/1.1',
];
const STATUS_LINES = [
  'HTTP/1.1 200 OK',
  'HTTP/1.0 404 Not Found',
  'HTTP/1.1 200',
  'HTTP/1.1 20',
  'HTTP/1.2 200 OK',
  'HTTP/1.1 099 x',
  'HTTP/1.1  200',
];
const NAMES = [
  'Host',
  'content-length',
  'Content-Length',
  'transfer-encoding',
  'Connection',
  'upgrade',
  'x-a',
  '',
  ' fold',
  '\tfold',
];
const VALUE_PARTS = [
  'v',
  'abc',
  '12',
  '5,5',
  '5, 6',
  'chunked',
  'gzip, chunked',
  'Upgrade',
  'h2c',
  ' ',
  '\t',
  '\xa0',
  '\v',
  '\r',
  '\n',
  ':',
  'é',
];

function generated(seed: number): { text: string; kind: 'request' | 'response' } {
  const r = seeded(seed);
  const kind = r(2) === 0 ? 'request' : 'response';
  const lines = kind === 'request' ? REQUEST_LINES : STATUS_LINES;
  let text = lines[r(4) === 0 ? r(lines.length) : r(2)];
  for (let i = r(7); i > 0; i--) {
    let value = '';
    for (let j = r(4); j > 0; j--) value += VALUE_PARTS[r(VALUE_PARTS.length)];
    text += `\r\n${NAMES[r(NAMES.length)]}${r(30) === 0 ? '' : ':'}${value}`;
  }
  if (r(12) === 0) text += '\r\n';
  return { text, kind };
}

describe('HTTP/1.x head reading', () => {
  it('reads 20,000 generated heads exactly as the line-by-line reference does', () => {
    let parsed = 0;
    for (let seed = 1; seed <= 20_000; seed++) {
      const { text, kind } = generated(seed);
      const want = outcome(() => reference(text, kind));
      assert.deepEqual(
        outcome(() => parseHead(text, kind)),
        want,
        `seed ${seed}: ${JSON.stringify(text)}`,
      );
      if (!('error' in (want as object))) parsed++;
    }
    // Both kinds of outcome are exercised, not just errors.
    assert.ok(parsed > 4_000, `only ${parsed} of 20,000 generated heads parsed`);
  });

  it('named cases: values trimmed, folds joined, framing facts, errors', () => {
    const req = parseHead(
      'GET /p?q=1 HTTP/1.1\r\nHost:  shop.test \t\r\nX-Long: a\r\n  b \r\nContent-Length: 5',
      'request',
    );
    assert.equal(req.method, 'GET');
    assert.equal(req.target, '/p?q=1');
    assert.deepEqual(req.headers, [
      ['Host', 'shop.test'],
      ['X-Long', 'a b'],
      ['Content-Length', '5'],
    ]);
    assert.equal(req.contentLength, 5);
    const res = parseHead(
      'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c',
      'response',
    );
    assert.deepEqual([res.status, res.statusText, res.upgrade], [101, 'Switching Protocols', 'h2c']);
    assert.equal(parseHead('HTTP/1.0 204', 'response').statusText, '');
    assert.throws(() => parseHead('GET / HTTP/1.1\r\n', 'request'), /bad header line/);
    assert.throws(() => parseHead('GET / HTTP/1.1\r\nnocolon', 'request'), /bad header line/);
    assert.throws(() => parseHead('GET / HTTP/1.1\r\n folded', 'request'), /continuation without a header/);
    assert.throws(() => parseHead('HTTP/1.1 20', 'response'), /bad status code/);
  });
});
