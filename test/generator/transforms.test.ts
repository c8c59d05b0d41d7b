import assert from 'node:assert/strict';
import { createHmac, createVerify, generateKeyPairSync } from 'node:crypto';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runGenerator, GeneratorConfigError, type TransformInput } from '../../src/generator/index.js';
import type { RRPair } from '../../src/model/traffic.js';
import { CAPTURE_START, pair, startTarget, tempDir } from './helpers.js';

const HOUR = 3_600_000;
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

function hs256(claims: object, key: string): string {
  const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`;
  return `${input}.${createHmac('sha256', key).update(input).digest('base64url')}`;
}

function claimsOf(token: string): { iat: number; exp: number; sub: string } {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as {
    iat: number;
    exp: number;
    sub: string;
  };
}

describe('generator: transforms', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  before(async () => {
    tmp = await tempDir();
  });
  after(async () => {
    await tmp.remove();
  });

  async function replay(recorded: RRPair[], transforms: TransformInput[], env: NodeJS.ProcessEnv = {}) {
    const target = await startTarget();
    try {
      const summary = await runGenerator({
        pairs: recorded,
        target: target.url,
        load: { connections: 1 },
        transforms,
        observedPath: path.join(tmp.dir, `t-${Date.now()}.ndjson.gz`),
        env,
      });
      assert.equal(summary.errors, 0);
      return target.arrivals;
    } finally {
      await target.close();
    }
  }

  it('overrides and removes headers, rewrites the host, and keeps hop-by-hop headers out', async () => {
    const recorded = pair(0, {
      request: {
        headers: [
          ['Host', 'orders.internal'],
          ['X-Env', 'prod'],
          ['X-Remove', 'gone'],
          ['Connection', 'keep-alive, X-Hop'],
          ['X-Hop', 'hop'],
          ['Transfer-Encoding', 'chunked'],
          ['Content-Length', '999'],
        ],
      },
    });
    const [got] = await replay(
      [recorded],
      [
        { type: 'header', name: 'x-env', value: 'replay' },
        { type: 'header', name: 'x-remove', value: null },
        { type: 'host', value: 'api.example.com:8443' },
      ],
    );
    assert.equal(got.headers['x-env'], 'replay');
    assert.equal(got.headers['x-remove'], undefined);
    assert.equal(got.headers.host, 'api.example.com:8443');
    assert.equal(got.headers['x-hop'], undefined);
    assert.equal(got.headers['transfer-encoding'], undefined);
    assert.equal(got.headers['content-length'], undefined);
  });

  it('replaces a recorded token in path, query, headers and body with a value from the environment', async () => {
    const recorded = pair(0, {
      request: {
        method: 'POST',
        path: '/accounts/REC-TOKEN',
        query: [['token', 'REC-TOKEN']],
        headers: [
          ['X-Token', 'Bearer REC-TOKEN'],
          ['Content-Type', 'application/json'],
        ],
        body: { encoding: 'utf8', data: '{"token":"REC-TOKEN","n":1}', size: 27, truncated: false },
      },
    });
    const [got] = await replay(
      [recorded],
      [{ type: 'replace', find: 'REC-TOKEN', with: '${env:GEN_TOKEN}' }],
      {
        GEN_TOKEN: 'live-123',
      },
    );
    assert.equal(got.url, '/accounts/live-123?token=live-123');
    assert.equal(got.headers['x-token'], 'Bearer live-123');
    assert.deepEqual(JSON.parse(got.body), { token: 'live-123', n: 1 });
    assert.equal(got.headers['content-length'], String(Buffer.byteLength(got.body)));
  });

  it('refuses a replace whose environment variable is not set, naming the field', async () => {
    await assert.rejects(
      runGenerator({
        pairs: [pair(0)],
        target: 'http://127.0.0.1:9',
        transforms: [{ type: 'replace', find: 'x', with: '${env:NOPE_NOT_SET}' }],
        observedPath: path.join(tmp.dir, 'never.ndjson.gz'),
        env: {},
      }),
      (err: unknown) => err instanceof GeneratorConfigError && err.field === 'transforms[0].with',
    );
  });

  it('shifts recorded timestamps: one recorded an hour after capture start arrives as about now + 1 h', async () => {
    const inAnHour = CAPTURE_START + HOUR;
    const recorded = pair(0, {
      startedAt: new Date(CAPTURE_START).toISOString(),
      request: {
        method: 'POST',
        query: [
          ['from', '2024-03-11'],
          ['since', String(inAnHour)],
        ],
        headers: [
          ['Content-Type', 'application/json'],
          ['X-At', new Date(inAnHour).toISOString()],
          ['If-Modified-Since', new Date(inAnHour).toUTCString()],
        ],
        body: {
          encoding: 'utf8',
          data: JSON.stringify({
            due: new Date(inAnHour).toISOString().replace('.000Z', '+00:00'),
            at: Math.floor(inAnHour / 1000),
            orderId: 1234567890123456,
            old: '2001-01-01T00:00:00Z',
          }),
          size: 0,
          truncated: false,
        },
      },
    });
    const [got] = await replay([recorded], [{ type: 'date-shift' }]);
    const expected = got.at + HOUR;
    const near = (ms: number, what: string) =>
      assert.ok(
        Math.abs(ms - expected) < 5000,
        `${what}: ${new Date(ms).toISOString()} vs ${new Date(expected).toISOString()}`,
      );
    const body = JSON.parse(got.body) as { due: string; at: number; orderId: number; old: string };
    near(Date.parse(body.due), 'ISO in body');
    assert.match(body.due, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/, 'format kept');
    near(body.at * 1000, 'epoch seconds in body');
    assert.equal(body.orderId, 1234567890123456, 'a number that is not a time stays');
    assert.equal(body.old, '2001-01-01T00:00:00Z', 'a time far from the capture stays');
    near(Date.parse(got.headers['x-at'] as string), 'ISO header');
    near(Date.parse(got.headers['if-modified-since'] as string), 'HTTP-date header');
    const q = new URL(got.url, 'http://x').searchParams;
    near(Number(q.get('since')), 'epoch millis in query');
    // A date without a time moves by whole days: recorded as the day after capture.
    const tomorrow = new Date(got.at + 86_400_000).toISOString().slice(0, 10);
    assert.equal(q.get('from'), tomorrow);
  });

  it('re-signs an HS256 JWT: the target verifies the new signature and sees fresh iat/exp', async () => {
    const iat = Math.floor(CAPTURE_START / 1000);
    const recorded = hs256({ sub: 'user-1', iat, exp: iat + 600 }, 'recorded-key');
    const arrivals = await replay(
      [pair(0, { request: { headers: [['Authorization', `Bearer ${recorded}`]] } })],
      [{ type: 'jwt-resign', key: '${env:JWT_KEY}' }],
      { JWT_KEY: 'replay-key' },
    );
    const token = (arrivals[0].headers.authorization as string).replace(/^Bearer /, '');
    assertSignedHs256(token, 'replay-key');
    const claims = claimsOf(token);
    assert.equal(claims.sub, 'user-1');
    assert.ok(Math.abs(claims.iat * 1000 - arrivals[0].at) < 5000, 'iat is now');
    assert.equal(claims.exp - claims.iat, 600, 'recorded lifetime kept');
  });

  it('re-signs with RS256 and a PEM key, with a configured ttl', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const iat = Math.floor(CAPTURE_START / 1000);
    const recorded = hs256({ sub: 'user-2', iat, exp: iat + 60 }, 'recorded-key');
    const arrivals = await replay(
      [pair(0, { request: { headers: [['X-Auth', recorded]] } })],
      [
        {
          type: 'jwt-resign',
          key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
          algorithm: 'RS256',
          headers: ['x-auth'],
          ttl: '1h',
        },
      ],
    );
    const token = arrivals[0].headers['x-auth'] as string;
    const [h, p, sig] = token.split('.');
    assert.equal((JSON.parse(Buffer.from(h, 'base64url').toString()) as { alg: string }).alg, 'RS256');
    assert.ok(
      createVerify('RSA-SHA256').update(`${h}.${p}`).verify(publicKey, sig, 'base64url'),
      'signature',
    );
    const claims = claimsOf(token);
    assert.equal(claims.exp - claims.iat, 3600);
    assert.ok(Math.abs(claims.iat * 1000 - arrivals[0].at) < 5000);
  });
});

function assertSignedHs256(token: string, key: string): void {
  const [h, p, sig] = token.split('.');
  assert.equal(createHmac('sha256', key).update(`${h}.${p}`).digest('base64url'), sig, 'HMAC signature');
}
