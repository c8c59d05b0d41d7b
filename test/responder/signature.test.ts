import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import {
  authorityKey,
  compileSignatureRules,
  hostKey,
  sign,
  signRecorded,
  type RequestFacts,
} from '../../src/responder/signature.js';
import { outbound } from './fixtures.js';
import { textBody } from '../../tools/fixtures/pairs.js';

const rules = compileSignatureRules();
const facts = (f: Partial<RequestFacts> = {}): RequestFacts => ({
  method: 'POST',
  host: 'api.example.com',
  path: '/v1/orders',
  query: [],
  ...f,
});
const json = (v: unknown) => Buffer.from(JSON.stringify(v));
const key = (f: Partial<RequestFacts>, r = rules) => sign(facts(f), r).key;

describe('request signature', () => {
  it('reads as method, host, path, sorted query and body', () => {
    assert.equal(
      key({
        query: [
          ['b', '2'],
          ['a', 'x y'],
        ],
        contentType: 'application/json',
        body: json({ z: 1, a: [true] }),
      }),
      'POST api.example.com/v1/orders?a=x%20y&b=2 json:{"a":[true],"z":1}',
    );
    assert.equal(key({ method: 'get' }), 'GET api.example.com/v1/orders');
  });

  it('does not depend on query parameter order', () => {
    const a = key({
      query: [
        ['page', '2'],
        ['size', '10'],
        ['tag', 'b'],
        ['tag', 'a'],
      ],
    });
    const b = key({
      query: [
        ['tag', 'a'],
        ['size', '10'],
        ['tag', 'b'],
        ['page', '2'],
      ],
    });
    assert.equal(a, b);
    assert.notEqual(
      a,
      key({
        query: [
          ['page', '3'],
          ['size', '10'],
          ['tag', 'a'],
          ['tag', 'b'],
        ],
      }),
    );
  });

  it('does not depend on JSON key order or number spelling', () => {
    const ct = 'application/json; charset=utf-8';
    const a = key({ contentType: ct, body: Buffer.from('{"b":{"y":1,"x":2},"a":1.0}') });
    const b = key({
      contentType: 'application/vnd.api+json',
      body: Buffer.from('{ "a": 1, "b": {"x": 2, "y": 1} }'),
    });
    assert.equal(a, b);
  });

  it('leaves out ignored query parameters and JSON paths', () => {
    const ignoring = compileSignatureRules({ query: ['ts'], body: ['$.requestId', '$.items[*].nonce'] });
    const body = (id: string, nonce: number) =>
      json({
        requestId: id,
        items: [
          { sku: 'a', nonce },
          { sku: 'b', nonce: nonce + 1 },
        ],
      });
    const a = key(
      {
        query: [
          ['ts', '1'],
          ['q', 'x'],
        ],
        contentType: 'application/json',
        body: body('r1', 1),
      },
      ignoring,
    );
    const b = key(
      {
        query: [
          ['q', 'x'],
          ['ts', '2'],
        ],
        contentType: 'application/json',
        body: body('r2', 9),
      },
      ignoring,
    );
    assert.equal(a, b);
    assert.ok(!a.includes('requestId') && !a.includes('nonce') && !a.includes('ts='), a);
    const other = json({
      requestId: 'r1',
      items: [
        { sku: 'c', nonce: 1 },
        { sku: 'b', nonce: 2 },
      ],
    });
    assert.notEqual(a, key({ query: [['q', 'x']], contentType: 'application/json', body: other }, ignoring));
  });

  it('keeps every digit of numbers a double cannot hold (int64 ids)', () => {
    const ct = 'application/json';
    const a = key({ contentType: ct, body: Buffer.from('{"id":12345678901234567890,"n":1}') });
    assert.notEqual(a, key({ contentType: ct, body: Buffer.from('{"id":12345678901234567891,"n":1}') }));
    assert.equal(a, key({ contentType: ct, body: Buffer.from('{"n":1.0, "id": 12345678901234567890}') }));
    const inString = key({ contentType: ct, body: Buffer.from('{"s":"12345678901234567890"}') });
    assert.equal(inString, 'POST api.example.com/v1/orders json:{"s":"12345678901234567890"}');
  });

  it('gives a different signature for a different body', () => {
    const ct = 'application/json';
    assert.notEqual(
      key({ contentType: ct, body: json({ a: 1 }) }),
      key({ contentType: ct, body: json({ a: 2 }) }),
    );
    assert.notEqual(key({ body: Buffer.from('one') }), key({ body: Buffer.from('two') }));
    assert.notEqual(key({ body: Buffer.from('one') }), key({}));
    assert.equal(key({ body: Buffer.alloc(0) }), key({}), 'an empty body is no body');
  });

  it('hashes long JSON and non-JSON bodies, and JSON that does not parse', () => {
    const long = key({ contentType: 'application/json', body: json({ text: 'x'.repeat(500) }) });
    assert.match(long, / json#[\w-]{43}$/);
    assert.match(
      key({ contentType: 'application/octet-stream', body: Buffer.from([0, 1, 2]) }),
      / bytes#[\w-]{43}$/,
    );
    assert.match(key({ contentType: 'application/json', body: Buffer.from('{not json') }), / bytes#/);
  });

  it('normalises url-encoded forms and ignores their listed fields', () => {
    const ignoring = compileSignatureRules({ body: ['$.csrf'] });
    const ct = 'application/x-www-form-urlencoded';
    assert.equal(
      key({ contentType: ct, body: Buffer.from('b=2&a=hello+world&csrf=1') }, ignoring),
      key({ contentType: ct, body: Buffer.from('csrf=2&a=hello%20world&b=2') }, ignoring),
    );
  });

  it('ignores the random multipart boundary', () => {
    const part = (b: string) =>
      Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="f"\r\n\r\nv\r\n--${b}--\r\n`);
    const ct = (b: string) => `multipart/form-data; boundary=${b}`;
    const a = key({ contentType: ct('XyZ123'), body: part('XyZ123') });
    assert.equal(a, key({ contentType: ct('----abc'), body: part('----abc') }));
    assert.notEqual(a, key({ contentType: ct('q'), body: Buffer.from('--q\r\n\r\nother\r\n--q--') }));
  });

  it('normalises hosts: case, standard ports, IPv6, Host header forms', () => {
    assert.equal(hostKey('API.Example.com.', 443), 'api.example.com');
    assert.equal(hostKey('api.example.com', 80), 'api.example.com');
    assert.equal(hostKey('api.example.com', 8443), 'api.example.com:8443');
    assert.equal(hostKey('::1', 8080), '[::1]:8080');
    assert.equal(authorityKey('Api.Example.com:443'), 'api.example.com');
    assert.equal(authorityKey('[::1]:8080'), '[::1]:8080');
    assert.equal(authorityKey('user:pw@svc:9000'), 'svc:9000');
  });

  it('signs a recorded request like the same live request', () => {
    const pair = outbound({
      method: 'post',
      host: 'API.example.com',
      port: 443,
      path: '/v1/orders',
      query: [
        ['z', '1'],
        ['a', '2'],
      ],
      headers: [['Content-Type', 'application/json']],
      body: textBody('{"b":1,"a":2}'),
    });
    const live = facts({
      query: [
        ['a', '2'],
        ['z', '1'],
      ],
      contentType: 'application/json',
      body: json({ a: 2, b: 1 }),
    });
    assert.equal(signRecorded(pair.request, rules).key, sign(live, rules).key);
  });

  it('decodes a recorded gzip request body that the recorder kept encoded', () => {
    const raw = gzipSync('{"a":1}');
    const pair = outbound({
      method: 'POST',
      headers: [
        ['content-type', 'application/json'],
        ['content-encoding', 'gzip'],
      ],
      body: { encoding: 'base64', data: raw.toString('base64'), size: raw.length, truncated: false },
    });
    assert.equal(signRecorded(pair.request, rules).key, 'POST api.example.com/v1/items json:{"a":1}');
  });

  it('keys a body the recorder cut by its kept prefix', () => {
    const pair = outbound({ method: 'POST', body: textBody('abcdef', { size: 100, truncated: true }) });
    const sig = signRecorded(pair.request, rules);
    assert.equal(sig.prefixLength, 6);
    assert.match(sig.key, / prefix6#/);
  });
});
