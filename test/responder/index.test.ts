import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ResponderConfig } from '../../src/config/replay.js';
import type { RRPair } from '../../src/model/traffic.js';
import { buildIndex, type RecordedIndex } from '../../src/responder/recorded-index.js';
import { compileSignatureRules, sign, type RequestFacts } from '../../src/responder/signature.js';
import { outbound } from './fixtures.js';
import { textBody } from '../../tools/fixtures/pairs.js';

const rules = compileSignatureRules();
const build = (
  pairs: Iterable<RRPair> | AsyncIterable<RRPair>,
  exhausted: ResponderConfig['exhausted'] = 'repeat-last',
) => buildIndex(pairs, { rules, exhausted, latency: 'none' });

const get = (f: Partial<RequestFacts> = {}): RequestFacts => ({
  method: 'GET',
  host: 'api.example.com',
  path: '/v1/items',
  query: [],
  ...f,
});

/** The bodies served for `times` lookups of one request. */
function serve(index: RecordedIndex, facts: RequestFacts, times: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < times; i++) {
    const entry = index.find(sign(facts, rules), facts.body);
    assert.ok(entry, `lookup ${i} missed`);
    const reply = index.next(entry);
    out.push(reply.kind === 'respond' ? reply.response.rawBody.toString() : reply.kind);
  }
  return out;
}

const three = () => ['a', 'b', 'c'].map((v) => outbound({ responseBody: textBody(v) }));

describe('recorded index', () => {
  it('serves several responses for one signature in recorded order, then repeats the last', async () => {
    const index = await build(three());
    assert.deepEqual(serve(index, get(), 5), ['a', 'b', 'c', 'c', 'c']);
  });

  it('cycles through them when configured', async () => {
    const index = await build(three(), 'cycle');
    assert.deepEqual(serve(index, get(), 7), ['a', 'b', 'c', 'a', 'b', 'c', 'a']);
  });

  it('keeps a cursor per signature', async () => {
    const pairs = [
      outbound({ path: '/x', responseBody: textBody('x1') }),
      outbound({ path: '/y', responseBody: textBody('y1') }),
      outbound({ path: '/x', responseBody: textBody('x2') }),
    ];
    const index = await build(pairs);
    assert.deepEqual(serve(index, get({ path: '/y' }), 2), ['y1', 'y1']);
    assert.deepEqual(serve(index, get({ path: '/x' }), 3), ['x1', 'x2', 'x2']);
  });

  it('reads an async stream, ignores inbound pairs and skips what cannot be replayed', async () => {
    async function* stream() {
      yield outbound();
      yield { ...outbound(), direction: 'inbound' as const };
      yield outbound({ method: 'CONNECT', path: 'api.example.com:443' });
      yield outbound({ path: '/ws', status: 101 });
      yield outbound({ path: '/down', noResponse: true });
    }
    const index = await build(stream());
    const s = index.stats();
    assert.deepEqual(
      { outbound: s.outbound, signatures: s.signatures, responses: s.responses, skipped: s.skipped },
      { outbound: 4, signatures: 2, responses: 2, skipped: { connect: 1, upgrade: 1 } },
    );
    assert.deepEqual(serve(index, get({ path: '/down' }), 1), ['close']);
  });

  it('matches a live body against the kept prefix of a body the recorder cut', async () => {
    const full = 'p'.repeat(40) + 'tail';
    const pair = outbound({
      method: 'POST',
      headers: [['content-type', 'text/plain']],
      body: textBody(full.slice(0, 40), { size: full.length, truncated: true }),
      responseBody: textBody('cut'),
    });
    const index = await build([pair]);
    const post = (body: string) =>
      get({ method: 'POST', contentType: 'text/plain', body: Buffer.from(body) });
    assert.deepEqual(serve(index, post(full), 1), ['cut']);
    assert.equal(index.find(sign(post('q' + full), rules), Buffer.from('q' + full)), undefined);
    assert.equal(index.find(sign(post(full.slice(0, 40)), rules), Buffer.from(full.slice(0, 40))), undefined);
  });

  it('indexes 100,000 recorded pairs and still answers each with its own response', async () => {
    const n = 100_000;
    function* many() {
      for (let i = 0; i < n; i++) {
        yield outbound({
          method: i % 2 ? 'POST' : 'GET',
          path: `/v1/items/${i}`,
          query: [['page', String(i % 7)]],
          headers: [['content-type', 'application/json']],
          body: i % 2 ? textBody(JSON.stringify({ id: i, kind: 'x' })) : undefined,
          responseBody: textBody(`r${i}`),
        });
      }
    }
    const index = await build(many());
    assert.equal(index.stats().signatures, n);
    for (const i of [0, 1, 4_999, 50_000, 77_777, n - 1]) {
      const facts = get({
        method: i % 2 ? 'POST' : 'GET',
        path: `/v1/items/${i}`,
        query: [['page', String(i % 7)]],
        contentType: 'application/json',
        body: i % 2 ? Buffer.from(JSON.stringify({ kind: 'x', id: i })) : undefined,
      });
      assert.deepEqual(serve(index, facts, 1), [`r${i}`]);
    }
    assert.equal(
      index.find(sign(get({ path: '/v1/items/100000', query: [['page', '0']] }), rules)),
      undefined,
    );
  });
});
