/**
 * A Java truststore that trusts the Reprise CA next to the usual public roots, written by Reprise
 * itself so no JDK is needed where Reprise runs (its image has none). The roots are the Mozilla
 * set Node carries (`tls.rootCertificates`), the same root program the JDK's `cacerts` follows.
 *
 * Format: JKS (version 2), trusted-certificate entries only. JKS is a few lines to write and
 * every JDK loads it as a truststore (`javax.net.ssl.trustStoreType=JKS`; since JDK 9 a PKCS12
 * default type reads it too). A PKCS12 file would need Java's own trusted-key-usage attribute
 * on each certificate bag before a JDK treats the entry as trusted, plus a MAC: more to get wrong.
 *
 *   magic 0xFEEDFEED, version 2, entry count;
 *   per entry: tag 2 (trusted cert), alias (UTF), creation time (ms), "X.509" (UTF), DER length, DER;
 *   SHA-1 over (password as UTF-16BE, "Mighty Aphrodite", everything above).
 */
import { createHash, X509Certificate } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { rootCertificates } from 'node:tls';

export const TRUSTSTORE_FILE = 'truststore.jks';
export const TRUSTSTORE_TYPE = 'JKS';
/** Integrity only: the file holds public certificates, nothing secret. The JDK's own default. */
export const TRUSTSTORE_PASSWORD = 'changeit';
export const REPRISE_CA_ALIAS = 'reprise-ca';

const MAGIC = 0xfeedfeed;
const VERSION = 2;
const TRUSTED_CERT = 2;

export interface TrustedCert {
  /** Unique, lowercase (JKS folds aliases to lowercase), ASCII. */
  alias: string;
  pem: string;
}

function utf(text: string): Buffer {
  if (![...text].every((ch) => ch >= ' ' && ch <= '~'))
    throw new Error(`truststore: "${text}" must be printable ASCII`);
  const len = Buffer.alloc(2);
  len.writeUInt16BE(text.length);
  return Buffer.concat([len, Buffer.from(text, 'ascii')]);
}

const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};

/** The JKS bytes for `certs`, each stamped with `created` (a fixed date keeps the file reproducible). */
export function jksTruststore(
  certs: TrustedCert[],
  password = TRUSTSTORE_PASSWORD,
  created = new Date(0),
): Buffer {
  const seen = new Set<string>();
  const parts: Buffer[] = [u32(MAGIC), u32(VERSION), u32(certs.length)];
  for (const c of certs) {
    if (c.alias !== c.alias.toLowerCase() || seen.has(c.alias))
      throw new Error(`truststore: alias "${c.alias}" must be lowercase and unique`);
    seen.add(c.alias);
    const der = new X509Certificate(c.pem).raw;
    const time = Buffer.alloc(8);
    time.writeBigInt64BE(BigInt(created.getTime()));
    parts.push(u32(TRUSTED_CERT), utf(c.alias), time, utf('X.509'), u32(der.length), der);
  }
  const body = Buffer.concat(parts);
  const digest = createHash('sha1')
    .update(Buffer.from(password, 'utf16le').swap16())
    .update('Mighty Aphrodite', 'utf8')
    .update(body)
    .digest();
  return Buffer.concat([body, digest]);
}

/** The Reprise CA first, then Node's roots as `root-001`, `root-002`, ... */
export function repriseTrustedCerts(caPem: string): TrustedCert[] {
  return [
    { alias: REPRISE_CA_ALIAS, pem: caPem },
    ...rootCertificates.map((pem, i) => ({ alias: `root-${String(i + 1).padStart(3, '0')}`, pem })),
  ];
}

/** The truststore for a CA; its entries carry the CA's start date, so the bytes are reproducible. */
export function repriseTruststore(caPem: string): Buffer {
  const created = new Date(new X509Certificate(caPem).validFrom);
  return jksTruststore(repriseTrustedCerts(caPem), TRUSTSTORE_PASSWORD, created);
}

/**
 * `<caDir>/truststore.jks` for the CA in `<caDir>/ca.pem` (which must exist: the sidecar and the
 * responder create it). Rewritten, atomically, only when its bytes would change (a new CA, a
 * Node with other roots).
 */
export async function ensureTruststore(caDir: string): Promise<string> {
  const file = path.join(caDir, TRUSTSTORE_FILE);
  const bytes = repriseTruststore(await readFile(path.join(caDir, 'ca.pem'), 'utf8'));
  const current = await readFile(file).catch(() => undefined);
  if (current?.equals(bytes)) return file;
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(tmp, bytes, { mode: 0o644 });
  await rename(tmp, file);
  return file;
}
