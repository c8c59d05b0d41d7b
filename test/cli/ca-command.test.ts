/** `reprise ca`: the CA and its Java truststore, created once and shown with the Secret command. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from '../helpers/cli.js';

test('reprise ca creates the CA and a truststore holding it once, then shows the same files', async () => {
  const home = await mkdtemp(path.join(tmpdir(), 'reprise-ca-cmd-'));
  try {
    const first = await runCli(['ca', '--json'], { REPRISE_HOME: home });
    assert.equal(first.code, 0, first.stderr);
    const files = JSON.parse(first.stdout) as { dir: string; cert: string; key: string; truststore: string };
    assert.deepEqual(files, {
      dir: path.join(home, 'ca'),
      cert: path.join(home, 'ca', 'ca.pem'),
      key: path.join(home, 'ca', 'ca-key.pem'),
      truststore: path.join(home, 'ca', 'truststore.jks'),
    });
    const cert = await readFile(files.cert, 'utf8');
    const jks = await readFile(files.truststore);
    assert.equal(jks.readUInt32BE(0), 0xfeedfeed);
    assert.ok(jks.includes(new X509Certificate(cert).raw), 'the truststore holds the CA');

    const second = await runCli(['ca'], { REPRISE_HOME: home });
    assert.equal(second.code, 0, second.stderr);
    assert.equal(await readFile(files.cert, 'utf8'), cert, 'the CA is kept');
    assert.ok(
      second.stdout.includes(
        `kubectl create secret generic reprise-ca --from-file=${files.cert} --from-file=${files.key} --from-file=${files.truststore}`,
      ),
      second.stdout,
    );
  } finally {
    await rm(home, { recursive: true, force: true });
  }
});
