import assert from 'node:assert/strict';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { describe, it } from 'node:test';
import { generateCACertificate } from 'mockttp';
import { runGenerator } from '../../src/generator/index.js';
import { observed, pairs, tempDir } from './helpers.js';

describe('generator: https target', () => {
  it('replays over TLS to a target with a self-signed certificate', async () => {
    const { key, cert } = await generateCACertificate({ subject: { commonName: 'reprise test' } });
    const server = https.createServer({ key, cert }, (req, res) => res.end(JSON.stringify({ url: req.url })));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const tmp = await tempDir();
    try {
      const file = path.join(tmp.dir, 'tls.ndjson.gz');
      const summary = await runGenerator({
        pairs: pairs(20),
        target: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
        load: { connections: 3 },
        observedPath: file,
      });
      assert.deepEqual([summary.responses, summary.errors], [20, 0]);
      const lines = await observed(file);
      assert.equal(lines.length, 20, 'one observed line per request');
      for (const ob of lines) {
        assert.equal(JSON.parse(ob.response?.body?.data ?? '').url, `/items/${ob.pairId.slice(5)}`);
      }
      assert.equal(new Set(lines.map((ob) => ob.pairId)).size, 20, 'each recorded pair replayed once');
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await tmp.remove();
    }
  });
});
