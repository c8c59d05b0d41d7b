/**
 * Bodies that are not UTF-8 (recorded as base64): text in an ASCII-compatible charset is masked
 * byte for byte; anything else is stored as recorded, tagged and counted as unscanned.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMasker } from '../../src/dlp/index.js';
import { encodeBody } from '../../src/model/body.js';
import { UNSCANNED_TAG, type RRPair } from '../../src/model/traffic.js';
import { makePair } from '../../tools/fixtures/pairs.js';

const KEY = Buffer.alloc(32, 1);
const CARD = '4111 1111 1111 1111';
const EMAIL = 'jo.doe@example.com';
const T = '[0-9a-f]{12}';

const bytesOf = (pair: RRPair) => Buffer.from(pair.request.body!.data, 'base64');
const post = (contentType: string | undefined, bytes: Buffer) =>
  makePair({
    method: 'POST',
    headers: contentType ? [['content-type', contentType]] : [],
    body: encodeBody(bytes),
  });

describe('DLP on bodies that are not UTF-8', () => {
  it('masks Latin-1 text byte for byte: the secrets go, every other byte stays', () => {
    const text = `Müller bestellt, Karte ${CARD}, Mail ${EMAIL}. Grüße`;
    const pair = post('text/plain; charset=iso-8859-1', Buffer.from(text, 'latin1'));
    assert.equal(pair.request.body!.encoding, 'base64', 'the fixture is not UTF-8');
    const m = createMasker({}, KEY);
    const out = m(pair);
    const masked = bytesOf(out).toString('latin1');
    assert.match(
      masked,
      new RegExp(`^Müller bestellt, Karte REDACTED-card-${T}, Mail REDACTED-email-${T}\\. Grüße$`),
    );
    assert.equal(out.request.body!.encoding, 'base64');
    assert.equal(out.request.body!.size, bytesOf(out).length, 'a whole body: size follows');
    assert.equal(out.tags[UNSCANNED_TAG], undefined);
    assert.deepEqual([m.stats(), m.unscanned()], [{ card: 1, email: 1 }, 0]);
  });

  it('masks JSON keys and Windows-1252 forms in the same way', () => {
    const m = createMasker({}, KEY);
    const json = m(post('application/json', Buffer.from('{"name":"Zoë","password":"hunter2"}', 'latin1')));
    assert.match(
      bytesOf(json).toString('latin1'),
      new RegExp(`^\\{"name":"Zoë","password":"REDACTED-secret-${T}"\\}$`),
    );
    const form = m(
      post(
        'application/x-www-form-urlencoded; charset=windows-1252',
        Buffer.from('who=Zoë&password=hunter2', 'latin1'),
      ),
    );
    assert.match(bytesOf(form).toString('latin1'), new RegExp(`^who=Zoë&password=REDACTED-secret-${T}$`));
    assert.equal(m.unscanned(), 0);
  });

  for (const [what, type] of [
    ['a binary body', 'application/octet-stream'],
    ['an image', 'image/png'],
    ['UTF-16 text (not ASCII-compatible)', 'text/plain; charset=utf-16le'],
    ['a body without a content type', undefined],
  ] as const) {
    it(`stores ${what} as recorded, tags the pair and counts it as unscanned`, () => {
      const bytes = Buffer.concat([Buffer.from([0x89, 0x00, 0xff]), Buffer.from(`password=hunter2 ${CARD}`)]);
      const pair = post(type, bytes);
      const m = createMasker({}, KEY);
      const out = m(pair);
      assert.deepEqual(bytesOf(out), bytes, 'nothing lost, nothing changed');
      assert.equal(out.tags[UNSCANNED_TAG], 'request.body');
      assert.equal(m.unscanned(), 1);
      assert.deepEqual(pair.tags, {}, 'the input is not modified');
    });
  }

  it('names both bodies when neither could be scanned, and still masks the rest of the pair', () => {
    const bin = encodeBody(Buffer.from([0xde, 0xad, 0xbe, 0xef]));
    const pair = makePair({
      method: 'POST',
      headers: [['authorization', 'Bearer abcdefgh12345']],
      body: bin,
      responseHeaders: [['content-type', 'application/protobuf']],
      responseBody: bin,
    });
    const m = createMasker({}, KEY);
    const out = m(pair);
    assert.equal(out.tags[UNSCANNED_TAG], 'request.body,response.body');
    assert.match(out.request.headers[0][1], new RegExp(`^Bearer REDACTED-secret-${T}$`));
    assert.equal(m.unscanned(), 2);
  });
});
