/**
 * patchLine: a patched line must parse to exactly the masked pair; whenever a replacement could
 * hit another token than the value's own, it must decline (the caller then serialises).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMasker, DEFAULT_DLP_RULES } from '../../src/dlp/index.js';
import { patchLine } from '../../src/forwarder/line-patch.js';
import type { RRPair } from '../../src/model/traffic.js';
import { jsonBody, makePair, textBody } from '../../tools/fixtures/pairs.js';

const masker = createMasker(DEFAULT_DLP_RULES, Buffer.alloc(32, 1));

/** The patched line of `pair` as sent in `line`, checked against the masked pair when defined. */
function patched(pair: RRPair, line = JSON.stringify(pair)): string | undefined {
  const before = JSON.parse(line) as RRPair;
  const masked = masker(before);
  const out = patchLine(line, before, masked);
  if (out !== undefined) assert.deepEqual(JSON.parse(out), JSON.parse(JSON.stringify(masked)));
  return out;
}

describe('patchLine', () => {
  it('replaces credential headers, query values and path secrets in place', () => {
    const pair = makePair({
      path: '/users/jane@example.com/orders',
      query: [
        ['access_token', 'qsTokenAbcdef123'],
        ['page', '2'],
      ],
      headers: [
        ['authorization', 'Bearer sk_live_51HxQz9fakeSecretToken'],
        ['x-api-key', 'ak_9d8c7b6a5f4e3d'],
        ['cookie', 'sid=sess8f7e6d5c4b3a; theme=dark'],
      ],
      responseHeaders: [['set-cookie', 'sid=sessNew99887766; Path=/; HttpOnly']],
      responseBody: jsonBody({ ok: true, note: 'a "quoted" body' }),
    });
    const out = patched(pair);
    assert.ok(out, 'patched');
    for (const secret of [
      'sk_live_51HxQz9',
      'ak_9d8c7b6a5f4e3d',
      'sess8f7e6d5c4b3a',
      'sessNew99887766',
      'qsTokenAbcdef123',
    ])
      assert.ok(!out.includes(secret), secret);
    assert.ok(!out.includes('jane@example.com'));
  });

  it('declines when a masked body changes (its size changes too)', () => {
    const pair = makePair({ method: 'POST', body: jsonBody({ email: 'jane@example.com' }) });
    assert.equal(patched(pair), undefined);
  });

  it('declines when the value also appears elsewhere in the line', () => {
    const pair = makePair({
      headers: [
        ['authorization', 'Bearer sk_live_51HxQz9fakeSecretToken'],
        ['x-copy', 'Bearer sk_live_51HxQz9fakeSecretToken'],
      ],
    });
    pair.tags = { 'Bearer sk_live_51HxQz9fakeSecretToken': 'x' };
    assert.equal(patched(pair), undefined);
  });

  it('declines on \\u or \\/ escapes: the raw token may not be what serialising writes', () => {
    const pair = makePair({ headers: [['authorization', 'Bearer sk_live_51HxQz9fakeSecretToken']] });
    const escaped = JSON.stringify(pair).replace('sk_live', '\\u0073k_live');
    assert.equal(patched(pair, escaped), undefined);
    const slashed = JSON.stringify(pair).replace('/api/orders', '\\/api\\/orders');
    assert.equal(patched(pair, slashed), undefined);
  });

  it('declines a value with , or : that could match the text between two tokens', () => {
    // `","` between the two header values would match a value of `,` without the rule.
    const pair = makePair({ headers: [['x-api-key', ',']] });
    assert.equal(patched(pair), undefined);
  });

  it('never stores a secret: many shapes, each patched line equals the masked pair', () => {
    let done = 0;
    for (let i = 0; i < 200; i++) {
      const pair = makePair({
        path: i % 3 ? `/api/orders/${i}` : `/cards/4111111111111111/${i}`,
        query: [['token', `tok-${i % 7}-abcdef`]],
        headers: [
          ['authorization', `Bearer user-session-${i}-abcdef0123456789`],
          ['user-agent', 'Mozilla/5.0 Chrome/120.0.0.0'],
          ['x-forwarded-for', i % 2 ? '203.0.113.45' : 'proxy'],
        ],
        responseBody: i % 5 ? jsonBody({ id: i }) : textBody(`call +14155552671 #${i}`),
      });
      if (patched(pair) !== undefined) done++;
    }
    assert.ok(done > 100, `patched ${done} of 200`);
  });
});
