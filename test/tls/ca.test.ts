import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ensureCa } from '../../src/tls/ca.js';

describe('Reprise CA files', () => {
  it('creates one matching pair even when several callers race, and reuses it', async () => {
    const dir = path.join(await mkdtemp(path.join(tmpdir(), 'reprise-ca-')), 'ca');
    try {
      const results = await Promise.all([ensureCa(dir), ensureCa(dir), ensureCa(dir)]);
      assert.equal(new Set(results.map((r) => r.cert)).size, 1);
      const cert = await readFile(results[0].certPath, 'utf8');
      const key = await readFile(results[0].keyPath, 'utf8');
      assert.ok(new X509Certificate(cert).checkPrivateKey(createPrivateKey(key)));
      assert.ok(new X509Certificate(cert).ca);
      assert.deepEqual((await readdir(dir)).sort(), ['ca-key.pem', 'ca.pem'], 'no temporary files left');
      assert.equal((await ensureCa(dir)).cert, cert);
    } finally {
      await rm(path.dirname(dir), { recursive: true, force: true });
    }
  });
});
