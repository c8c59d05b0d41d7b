/**
 * What a standby responder does while it waits for its arguments (src/base/worker-args.ts):
 * mockttp signs the TLS certificates it makes with one RSA-2048 key per process, generated when
 * its first CA object is built (at start, up to half a second). Building one against the CA the
 * responder will most likely use (creating it if missing, as the responder would) makes that key
 * now, and runs the certificate code once.
 */
import { ensureCa } from '../tls/ca.js';

export async function warmUp(caDir: string): Promise<void> {
  const ca = await ensureCa(caDir);
  const { getCA } = await import('mockttp/dist/util/certificates');
  await (await getCA({ certPath: ca.certPath, keyPath: ca.keyPath })).generateCertificate('localhost');
}
