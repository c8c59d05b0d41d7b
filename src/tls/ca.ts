/**
 * The Reprise CA in `<caDir>/ca.pem` + `<caDir>/ca-key.pem`: read when present, generated once
 * otherwise. The sidecar intercepts TLS with it, the responder answers TLS with it and the
 * Kubernetes runtime hands it to the app, so apps trust one CA for capture and replay. Two processes may create it at the same moment: each publishes the key with link(),
 * which only one can win, and the loser re-reads the winner's pair.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface CaFiles {
  certPath: string;
  keyPath: string;
  /** The CA certificate (PEM), for clients that must trust it. */
  cert: string;
}

export const CA_CERT_FILE = 'ca.pem';
export const CA_KEY_FILE = 'ca-key.pem';

/** The CA with its key in memory: what the sidecar signs intercepted hosts' certificates with. */
export interface CaMaterial {
  certPath: string;
  keyPath: string;
  certPem: string;
  keyPem: string;
}

const ATTEMPTS = 40;
const RETRY_MS = 50;

export async function ensureCa(dir: string): Promise<CaFiles> {
  const certPath = path.join(dir, CA_CERT_FILE);
  const keyPath = path.join(dir, CA_KEY_FILE);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  let reason = '';
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const existing = await readPair(certPath, keyPath);
    if (existing.ok) return { certPath, keyPath, cert: existing.cert };
    reason = existing.reason;
    // Only generate when nothing is there yet; a half-written pair belongs to a creator still at work.
    if (existing.missing === 'both' && (await publish(dir, certPath, keyPath))) continue;
    await sleep(RETRY_MS);
  }
  throw new Error(
    `CA in ${dir} is unusable: ${reason} (remove ${CA_CERT_FILE} and ${CA_KEY_FILE} to regenerate)`,
  );
}

export async function loadCa(dir: string): Promise<CaMaterial> {
  const files = await ensureCa(dir);
  return {
    certPath: files.certPath,
    keyPath: files.keyPath,
    certPem: files.cert,
    keyPem: await readFile(files.keyPath, 'utf8'),
  };
}

type PairState = { ok: true; cert: string } | { ok: false; missing?: 'both'; reason: string };

async function readPair(certPath: string, keyPath: string): Promise<PairState> {
  const [cert, key] = await Promise.all([readOptional(certPath), readOptional(keyPath)]);
  if (cert === undefined && key === undefined) return { ok: false, missing: 'both', reason: 'no CA files' };
  if (cert === undefined || key === undefined) {
    return { ok: false, reason: `${cert === undefined ? CA_CERT_FILE : CA_KEY_FILE} is missing` };
  }
  try {
    if (!new X509Certificate(cert).checkPrivateKey(createPrivateKey(key))) {
      return { ok: false, reason: 'the key does not belong to the certificate' };
    }
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
  return { ok: true, cert };
}

async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Writes a new pair under temporary names and links it into place; false when another process won. */
async function publish(dir: string, certPath: string, keyPath: string): Promise<boolean> {
  // Loaded only to create a CA (once per home): its X.509 stack costs a quarter of a second to load.
  const { generateCACertificate } = await import('mockttp/dist/util/certificates');
  const { cert, key } = await generateCACertificate({
    subject: { commonName: 'Reprise CA - replay and capture only', organizationName: 'Reprise' },
  });
  const suffix = `.${process.pid}.${Date.now()}.tmp`;
  const tmpCert = path.join(dir, CA_CERT_FILE + suffix);
  const tmpKey = path.join(dir, CA_KEY_FILE + suffix);
  await writeFile(tmpKey, key, { mode: 0o600 });
  await writeFile(tmpCert, cert, { mode: 0o644 });
  try {
    await link(tmpKey, keyPath); // the key goes first: whoever places it owns the pair
    await link(tmpCert, certPath);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await Promise.all([unlink(tmpKey).catch(() => {}), unlink(tmpCert).catch(() => {})]);
  }
}
