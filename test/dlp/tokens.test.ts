import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { createMasker, DlpRules, dlpKeyPath, loadOrCreateDlpKey } from '../../src/dlp/index.js';
import { makePair } from '../../tools/fixtures/pairs.js';

const authToken = (key: Buffer, secret: string) =>
  createMasker({}, key)(makePair({ headers: [['authorization', `Bearer ${secret}`]] })).request.headers[0][1];

describe('deterministic tokens', () => {
  const key = Buffer.alloc(32, 3);

  it('the same secret gives the same token, across pairs and maskers', () => {
    const m = createMasker({}, key);
    const a = m(makePair({ headers: [['x-api-key', 'same-secret']] })).request.headers[0][1];
    const b = m(makePair({ headers: [['x-api-key', 'same-secret']] })).request.headers[0][1];
    assert.equal(a, b);
    assert.equal(authToken(key, 'abc'), authToken(key, 'abc'));
  });

  it('different secrets give different tokens', () => {
    assert.notEqual(authToken(key, 'abc'), authToken(key, 'abd'));
  });

  it('a different key gives a different token', () => {
    assert.notEqual(authToken(key, 'abc'), authToken(Buffer.alloc(32, 4), 'abc'));
  });

  it('counts masked values per kind', () => {
    const m = createMasker({}, key);
    m(
      makePair({
        headers: [
          ['authorization', 'Bearer x1'],
          ['cookie', 'a=1; b=2'],
        ],
        query: [['email', 'j@x.io']],
      }),
    );
    assert.deepEqual(m.stats(), { secret: 1, cookie: 2, email: 1 });
  });

  it('an already masked value is not masked again', () => {
    const m = createMasker({}, key);
    const once = m(makePair({ headers: [['authorization', 'Bearer x1']] }));
    assert.equal(m(once), once);
  });
});

describe('DLP rules schema', () => {
  it('names the field of a bad rule', () => {
    const r = DlpRules.safeParse({
      detectors: ['email', 'passport'],
      keys: [{ name: 'x', kind: 'Bad Kind' }],
    });
    assert.equal(r.success, false);
    const paths = r.error!.issues.map((i) => i.path.join('.'));
    assert.ok(paths.includes('detectors.1'), paths.join());
    assert.ok(paths.includes('keys.0.kind') || paths.includes('keys.0'), paths.join());
    assert.equal(DlpRules.safeParse({ detector: [] }).success, false, 'unknown fields are refused');
  });
});

describe('per-install key', () => {
  it('is created once with mode 0600 and then reused', async () => {
    const home = await mkdtemp(path.join(tmpdir(), 'reprise-dlpkey-'));
    try {
      const [a, b] = await Promise.all([loadOrCreateDlpKey(home), loadOrCreateDlpKey(home)]);
      assert.equal(a.length, 32);
      assert.deepEqual(a, b);
      assert.deepEqual(await loadOrCreateDlpKey(home), a);
      assert.equal((await stat(dlpKeyPath(home))).mode & 0o777, 0o600);
      assert.match(await readFile(dlpKeyPath(home), 'utf8'), /^[0-9a-f]{64}\n$/);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});
