import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMasker } from '../../src/dlp/index.js';
import { jsonBody, makePair, textBody } from '../../tools/fixtures/pairs.js';

const KEY = Buffer.alloc(32, 1);
const masker = () => createMasker({}, KEY);
const T = '[0-9a-f]{12}';

describe('key rules: headers', () => {
  it('masks the credential of authorization headers and keeps the scheme', () => {
    const pair = makePair({
      headers: [
        ['Authorization', 'Bearer s3cr3t-token-value'],
        ['Proxy-Authorization', 'Basic dXNlcjpwYXNz'],
        ['X-Api-Key', 'ak_live_123'],
        ['x-auth-token', 'tok'],
      ],
    });
    const h = masker()(pair).request.headers;
    assert.match(h[0][1], new RegExp(`^Bearer REDACTED-secret-${T}$`));
    assert.match(h[1][1], new RegExp(`^Basic REDACTED-secret-${T}$`));
    assert.match(h[2][1], new RegExp(`^REDACTED-secret-${T}$`));
    assert.match(h[3][1], new RegExp(`^REDACTED-secret-${T}$`));
    assert.equal(h[0][0], 'Authorization', 'names and order stay');
  });

  it('masks each cookie value and keeps the names; set-cookie keeps its attributes', () => {
    const pair = makePair({
      headers: [['cookie', 'sid=abc123; theme="dark"; lang=en']],
      responseHeaders: [['Set-Cookie', 'sid=xyz789; Path=/; HttpOnly; Secure']],
    });
    const out = masker()(pair);
    assert.match(
      out.request.headers[0][1],
      new RegExp(`^sid=REDACTED-cookie-${T}; theme="REDACTED-cookie-${T}"; lang=REDACTED-cookie-${T}$`),
    );
    assert.match(
      out.response!.headers[0][1],
      new RegExp(`^sid=REDACTED-cookie-${T}; Path=/; HttpOnly; Secure$`),
    );
  });

  it('leaves exempt headers alone and scans the others with detectors', () => {
    const pair = makePair({
      headers: [
        ['host', '10.0.0.1:8080'],
        ['x-forwarded-for', '203.0.113.7'],
        ['x-user', 'jane@example.com'],
      ],
    });
    const h = masker()(pair).request.headers;
    assert.equal(h[0][1], '10.0.0.1:8080');
    assert.match(h[1][1], /^REDACTED-ipv4-/);
    assert.match(h[2][1], /^REDACTED-email-/);
  });
});

describe('key rules: query, path, bodies', () => {
  it('query values by key, and detectors on the others', () => {
    const pair = makePair({
      query: [
        ['access_token', 'qwerty'],
        ['apiKey', 'k-1'],
        ['email', 'a.b@example.org'],
        ['page', '2'],
      ],
    });
    const q = masker()(pair).request.query;
    assert.match(q[0][1], /^REDACTED-secret-/);
    assert.match(q[1][1], /^REDACTED-secret-/);
    assert.match(q[2][1], /^REDACTED-email-/);
    assert.deepEqual(q[3], ['page', '2']);
  });

  it('path segments, percent-encoded or not', () => {
    const m = masker();
    assert.match(
      m(makePair({ path: '/users/jane%40example.com/cards/4111111111111111' })).request.path,
      /^\/users\/REDACTED-email-[0-9a-f]{12}\/cards\/REDACTED-card-/,
    );
    assert.equal(m(makePair({ path: '/api/orders/12345' })).request.path, '/api/orders/12345');
  });

  it('JSON keys at any depth, inside arrays, any case and separator, numbers and objects', () => {
    const body = {
      Password: 'hunter2',
      users: [{ profile: { accessToken: 'at-1', card_number: 4111111111111111, pin: 1234 } }],
      client_secret: { nested: ['a', 'b'], n: 5 },
      ok: 'visible',
      secret: null,
    };
    const pair = makePair({
      method: 'POST',
      headers: [['content-type', 'application/json']],
      body: jsonBody(body),
    });
    const out = masker()(pair).request.body!;
    const parsed = JSON.parse(out.data);
    assert.match(parsed.Password, /^REDACTED-secret-/);
    assert.match(parsed.users[0].profile.accessToken, /^REDACTED-secret-/);
    assert.match(parsed.users[0].profile.card_number, /^REDACTED-card-/);
    assert.match(parsed.users[0].profile.pin, /^REDACTED-secret-/);
    assert.match(parsed.client_secret.nested[1], /^REDACTED-secret-/);
    assert.match(parsed.client_secret.n, /^REDACTED-secret-/);
    assert.equal(parsed.ok, 'visible');
    assert.equal(parsed.secret, null);
    assert.equal(out.size, Buffer.byteLength(out.data), 'size follows the masked data');
  });

  it('updates content-length when the body changes size', () => {
    const body = jsonBody({ password: 'x' });
    const pair = makePair({
      method: 'POST',
      headers: [
        ['content-type', 'application/json'],
        ['content-length', String(body.size)],
      ],
      body,
    });
    const out = masker()(pair).request;
    assert.equal(out.headers[1][1], String(Buffer.byteLength(out.body!.data)));
  });

  it('form bodies field by field', () => {
    const pair = makePair({
      method: 'POST',
      headers: [['content-type', 'application/x-www-form-urlencoded']],
      body: textBody('user=jane&password=p%40ss+word&email=jane%40example.com&n=1'),
    });
    const data = masker()(pair).request.body!.data;
    assert.match(
      data,
      /^user=jane&password=REDACTED-secret-[0-9a-f]{12}&email=REDACTED-email-[0-9a-f]{12}&n=1$/,
    );
  });

  it('secrets in JSON strings of a text body that is not valid JSON, and JSON escaped in a string', () => {
    const text = `log: {"password": "pw-in-log", "token": "tk\\"q"} tail {\\"secret\\":\\"inner\\"} ?refresh_token=rt-1&x=2`;
    const pair = makePair({
      method: 'POST',
      headers: [['content-type', 'text/plain']],
      body: textBody(text),
    });
    const data = masker()(pair).request.body!.data;
    for (const s of ['pw-in-log', 'tk\\"q', 'inner', 'rt-1'])
      assert.ok(!data.includes(s), `${s} left in ${data}`);
    assert.match(data, /"password": "REDACTED-secret-[0-9a-f]{12}"/);
    assert.match(data, /\\"secret\\":\\"REDACTED-secret-[0-9a-f]{12}\\"/);
    assert.match(data, /&x=2$/);
  });

  it('leaves clean pairs untouched (same object)', () => {
    const m = masker();
    const clean = makePair({ path: '/a', body: jsonBody({ a: 1 }) });
    assert.equal(m(clean), clean);
  });

  it('does not modify its input', () => {
    const pair = makePair({
      headers: [['authorization', 'Bearer abcdefgh123']],
      body: jsonBody({ password: 'p' }),
    });
    const before = JSON.stringify(pair);
    masker()(pair);
    assert.equal(JSON.stringify(pair), before);
  });

  it('custom rules: kinds, no defaults', () => {
    const m = createMasker({ keys: [{ name: 'dob', kind: 'birthdate' }], headers: [], detectors: [] }, KEY);
    const pair = makePair({
      headers: [['authorization', 'Bearer keep-me']],
      method: 'POST',
      body: jsonBody({ dob: '1990-01-01', password: 'kept', email: 'a@b.co' }),
    });
    const out = m(pair);
    assert.equal(out.request.headers[0][1], 'Bearer keep-me');
    const parsed = JSON.parse(out.request.body!.data);
    assert.match(parsed.dob, /^REDACTED-birthdate-/);
    assert.equal(parsed.password, 'kept');
    assert.equal(parsed.email, 'a@b.co');
  });
});
