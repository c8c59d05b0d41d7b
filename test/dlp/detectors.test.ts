import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMasker, luhnValid } from '../../src/dlp/index.js';
import { makePair, textBody } from '../../tools/fixtures/pairs.js';

const KEY = Buffer.alloc(32, 7);

/** Masks `text` as a text/plain request body with only the given detectors on. */
function maskText(text: string, detectors?: string[]): string {
  const masker = createMasker(detectors ? { detectors: detectors as never } : {}, KEY);
  const pair = makePair({ method: 'POST', headers: [['content-type', 'text/plain']], body: textBody(text) });
  return masker(pair).request.body!.data;
}

const TOKEN = (kind: string) => new RegExp(`REDACTED-${kind}-[0-9a-f]{12}`);

describe('detectors', () => {
  it('email', () => {
    const out = maskText('contact jane.doe+tag@mail.example.co.uk today');
    assert.match(out, /^contact REDACTED-email-[0-9a-f]{12} today$/);
    assert.equal(maskText('no at sign here, a @ b, x@y'), 'no at sign here, a @ b, x@y');
  });

  it('credit card with a valid Luhn check, grouped or not', () => {
    for (const card of [
      '4111111111111111',
      '4111 1111 1111 1111',
      '5555-5555-5555-4444',
      '378282246310005',
    ]) {
      assert.match(maskText(`card ${card} end`), /^card REDACTED-card-[0-9a-f]{12} end$/, card);
    }
  });

  it('leaves a 16-digit number that fails Luhn, and epoch milliseconds', () => {
    assert.equal(luhnValid('4111111111111112'), false);
    assert.equal(maskText('n 4111111111111112 t 1700000000000'), 'n 4111111111111112 t 1700000000000');
  });

  it('JWT', () => {
    const jwt =
      'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c';
    assert.match(maskText(`id_token=${jwt};`), /^id_token=REDACTED-jwt-[0-9a-f]{12};$/);
  });

  it('bearer credential keeps the scheme word', () => {
    assert.match(
      maskText('Authorization: Bearer abc123DEF456ghi'),
      /^Authorization: Bearer REDACTED-bearer-[0-9a-f]{12}$/,
    );
    assert.match(maskText('bearer   tok_live.9f8e7d'), /^bearer {3}REDACTED-bearer-/);
  });

  it('E.164 phone', () => {
    assert.match(maskText('call +14155552671.'), /^call REDACTED-phone-[0-9a-f]{12}\.$/);
    assert.equal(maskText('sum 1+14155552671'), 'sum 1+14155552671');
  });

  it('IPv4, but not a longer dotted version', () => {
    assert.match(maskText('from 192.168.10.200 ok'), /^from REDACTED-ipv4-[0-9a-f]{12} ok$/);
    assert.equal(maskText('v 1.2.3.4.5 and 999.1.1.1'), 'v 1.2.3.4.5 and 999.1.1.1');
    const ua = 'Mozilla/5.0 Chrome/120.0.0.0 Safari/537.36 v1.2.3.4';
    assert.equal(maskText(ua), ua);
    assert.match(maskText('http://10.1.2.3:8080/x'), /^http:\/\/REDACTED-ipv4-[0-9a-f]{12}:8080\/x$/);
  });

  it('US SSN, but not impossible ones or dates', () => {
    assert.match(maskText('ssn 123-45-6789'), /^ssn REDACTED-ssn-[0-9a-f]{12}$/);
    assert.equal(
      maskText('000-12-3456 666-12-3456 123-00-4567 2024-01-15'),
      '000-12-3456 666-12-3456 123-00-4567 2024-01-15',
    );
  });

  it('only the detectors enabled run', () => {
    const out = maskText('jane@example.com 4111111111111111', ['card']);
    assert.match(out, /^jane@example\.com REDACTED-card-/);
  });

  it('finds secrets in a truncated body', () => {
    const masker = createMasker({}, KEY);
    const cut = '{"user":{"email":"jane@example.com","card":"4111 1111 11';
    const pair = makePair({
      method: 'POST',
      headers: [['content-type', 'application/json']],
      body: textBody(cut, { size: 5000, truncated: true }),
    });
    const out = masker(pair).request.body!;
    assert.doesNotMatch(out.data, /jane@example\.com|4111/);
    assert.match(out.data, TOKEN('email'));
    assert.equal(out.size, 5000, 'the wire size of a cut body stays');
    assert.equal(out.truncated, true);
  });

  it('never breaks a JSON escape next to a secret', () => {
    const masker = createMasker({}, KEY);
    const data = JSON.stringify({ note: 'line\njane@example.com\t4111111111111111' });
    const pair = makePair({
      method: 'POST',
      headers: [['content-type', 'application/json']],
      body: textBody(data),
    });
    const parsed = JSON.parse(masker(pair).request.body!.data) as { note: string };
    assert.match(parsed.note, /^line\nREDACTED-email-[0-9a-f]{12}\tREDACTED-card-[0-9a-f]{12}$/);
  });
});
