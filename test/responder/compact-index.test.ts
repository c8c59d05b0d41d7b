import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ResponderConfig } from '../../src/config/replay.js';
import type { RRPair } from '../../src/model/traffic.js';
import { buildIndex } from '../../src/responder/recorded-index.js';
import { recordedReply } from '../../src/responder/recorded-reply.js';
import {
  compileSignatureRules,
  sign,
  signRecorded,
  type RequestFacts,
} from '../../src/responder/signature.js';
import { textBody } from '../../tools/fixtures/pairs.js';
import { outbound } from './fixtures.js';

const rules = compileSignatureRules();
const latency: ResponderConfig['latency'] = 'recorded';

/** Recorded replies of every shape: binary, cut, decoded, HEAD, 204, non-ASCII text, no response. */
const shapes = (): { pair: RRPair; facts: RequestFacts }[] => {
  const get = (path: string, method = 'GET'): RequestFacts => ({
    method,
    host: 'api.example.com',
    path,
    query: [['q', 'ü 1']],
  });
  const spec = (path: string, method = 'GET') => ({
    path,
    method,
    query: [['q', 'ü 1']] as [string, string][],
  });
  return [
    {
      pair: outbound({
        ...spec('/bin'),
        responseBody: {
          encoding: 'base64',
          data: Buffer.from([0, 255, 13, 10]).toString('base64'),
          size: 4,
          truncated: false,
        },
        responseHeaders: [
          ['content-type', 'application/octet-stream'],
          ['x-two', 'a'],
          ['X-Two', 'b'],
        ],
      }),
      facts: get('/bin'),
    },
    {
      pair: outbound({ ...spec('/cut'), responseBody: textBody('abc', { size: 9000, truncated: true }) }),
      facts: get('/cut'),
    },
    {
      pair: outbound({
        ...spec('/gz'),
        responseHeaders: [
          ['content-encoding', 'gzip'],
          ['content-type', 'text/plain'],
        ],
        responseBody: textBody('inflated', { decodedFrom: 'gzip' }),
      }),
      facts: get('/gz'),
    },
    {
      pair: outbound({ ...spec('/head', 'HEAD'), responseHeaders: [['content-length', '512']] }),
      facts: get('/head', 'HEAD'),
    },
    { pair: outbound({ ...spec('/none'), status: 204, responseBody: undefined }), facts: get('/none') },
    {
      pair: outbound({ ...spec('/text'), responseBody: textBody('naïve ☃ 𝄞 "quoted"\n') }),
      facts: get('/text'),
    },
    {
      pair: {
        ...outbound({ ...spec('/gone'), noResponse: true, durationMs: 7 }),
        error: { code: 'ECONNRESET', message: 'reset' },
      },
      facts: get('/gone'),
    },
  ];
};

describe('recorded index held compact', () => {
  it('serves each recorded reply exactly as preparing it from the pair does, on first and later serves', async () => {
    const cases = shapes();
    const index = await buildIndex(
      cases.map((c) => c.pair),
      { rules, exhausted: 'repeat-last', latency },
    );
    assert.deepEqual(
      cases.map((c) => recordedReply(c.pair, latency)?.kind),
      ['respond', 'respond', 'respond', 'respond', 'respond', 'respond', 'reset'],
    );
    for (const { pair, facts } of cases) {
      const entry = index.find(sign(facts, rules));
      assert.ok(entry, `${facts.path} is found`);
      const expected = recordedReply(pair, latency);
      assert.ok(expected);
      assert.deepEqual(index.peek(entry), expected, `${facts.path}: first serve`);
      assert.deepEqual(index.next(entry), expected, `${facts.path}: served`);
      assert.deepEqual(index.next(entry), expected, `${facts.path}: served again`);
    }
  });

  it('gives back each recorded signature whole, for the nearest-signature report', async () => {
    const pairs = [
      ...shapes().map((c) => c.pair),
      outbound({
        method: 'POST',
        path: '/v1/quote',
        body: textBody('{"qty":3}'),
        headers: [['content-type', 'application/json']],
      }),
      outbound({ host: 'Other.Example.com', port: 8443, path: '/' }),
    ];
    const index = await buildIndex(pairs, { rules, exhausted: 'repeat-last', latency });
    const expected = pairs.map((p) => {
      const { prefixLength: _, ...s } = signRecorded(p.request, rules);
      return s;
    });
    const byKey = (a: { key: string }, b: { key: string }) => a.key.localeCompare(b.key);
    assert.deepEqual([...index.signatures()].sort(byKey), expected.sort(byKey));
  });
});
