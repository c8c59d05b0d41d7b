/**
 * The truststore Reprise writes without a JDK, checked by a real one: `keytool` lists it (and
 * refuses a wrong password, so the integrity digest is real), and a real JVM trusts an HTTPS
 * server whose certificate the Reprise CA signed only when given it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { rootCertificates } from 'node:tls';
import { ensureCa } from '../../src/tls/ca.js';
import { repriseJvmOptions } from '../../src/jvm/java-tool-options.js';
import { trustStoreAt } from '../../src/jvm/local.js';
import { ensureTruststore, jksTruststore, TRUSTSTORE_PASSWORD } from '../../src/jvm/truststore.js';
import { ensureJdk, httpsServerSignedBy, jvmGet, run } from '../helpers/jvm.js';

let dir: string;
let caDir: string;
let caPem: string;
let server: Awaited<ReturnType<typeof httpsServerSignedBy>>;

before(async () => {
  ensureJdk();
  dir = await mkdtemp(path.join(tmpdir(), 'reprise-truststore-'));
  caDir = path.join(dir, 'ca');
  caPem = (await ensureCa(caDir)).cert;
  server = await httpsServerSignedBy(caDir, 'hello from a Reprise-CA leaf');
});

after(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

const keytool = (file: string, ...args: string[]) =>
  run('keytool', ['-list', '-keystore', file, '-storepass', TRUSTSTORE_PASSWORD, ...args]);

test('keytool lists the Reprise CA and every root Node carries as trusted certificates', async () => {
  const file = await ensureTruststore(caDir);
  const list = await keytool(file);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /Keystore type: JKS/);
  assert.match(list.stdout, new RegExp(`Your keystore contains ${rootCertificates.length + 1} entries`));
  assert.equal((list.stdout.match(/trustedCertEntry/g) ?? []).length, rootCertificates.length + 1);
  const ca = await keytool(file, '-alias', 'reprise-ca', '-v');
  const fingerprint = new X509Certificate(caPem).fingerprint256;
  assert.ok(ca.stdout.includes(`SHA256: ${fingerprint}`), ca.stdout.slice(0, 800));
  // The public roots are there too, so an app's other HTTPS (not intercepted) still verifies.
  const all = await keytool(file, '-v');
  assert.match(all.stdout, /Owner: CN=ISRG Root X1, O=Internet Security Research Group, C=US/);
});

test('a wrong password is refused: the integrity digest covers the entries', async () => {
  const file = path.join(dir, 'other.jks');
  await writeFile(file, jksTruststore([{ alias: 'reprise-ca', pem: caPem }], 'another-password'));
  const wrong = await keytool(file);
  assert.notEqual(wrong.code, 0);
  assert.match(wrong.stdout + wrong.stderr, /password was incorrect/);
  const right = await run('keytool', ['-list', '-keystore', file, '-storepass', 'another-password']);
  assert.equal(right.code, 0, right.stderr);
  assert.match(right.stdout, /contains 1 entry/);
});

test('a real JVM trusts a Reprise-CA certificate through the truststore, and not without it', async () => {
  const url = `https://localhost:${server.port}/`;
  const options = repriseJvmOptions({
    purpose: 'replay',
    trustStore: trustStoreAt(await ensureTruststore(caDir)),
  });
  const trusted = await jvmGet(url, options.join(' '));
  assert.equal(trusted.status, 200, trusted.error);
  assert.equal(trusted.body, 'hello from a Reprise-CA leaf');
  const untrusted = await jvmGet(url, '');
  assert.equal(untrusted.status, undefined);
  assert.match(untrusted.error ?? '', /PKIX path building failed|unable to find valid certification path/);
});

test('the file is rewritten only when its content changes (a new CA)', async () => {
  const file = await ensureTruststore(caDir);
  const first = await stat(file);
  await ensureTruststore(caDir);
  assert.equal((await stat(file)).ino, first.ino, 'an unchanged truststore was rewritten');
  const before = await readFile(file);
  await unlink(path.join(caDir, 'ca.pem'));
  await unlink(path.join(caDir, 'ca-key.pem'));
  await ensureCa(caDir);
  await ensureTruststore(caDir);
  assert.notDeepEqual(await readFile(file), before);
});

test('bad aliases are refused with the alias named', () => {
  assert.throws(() => jksTruststore([{ alias: 'Reprise', pem: caPem }]), /alias "Reprise" must be lowercase/);
  assert.throws(
    () =>
      jksTruststore([
        { alias: 'a', pem: caPem },
        { alias: 'a', pem: caPem },
      ]),
    /alias "a" must be lowercase and unique/,
  );
});
