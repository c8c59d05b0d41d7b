/**
 * The Reprise CA the sidecar signs intercepted hosts' certificates with: `<caDir>/ca.pem` and
 * `<caDir>/ca-key.pem` (mode 0600), generated once and reused. It is the same CA (and the same
 * creation code) as the responder's, so an app trusts one CA for capture and replay.
 */
import { readFile } from 'node:fs/promises';
import { ensureCa } from '../src/responder/ca.js';

export interface CaMaterial {
  certPath: string;
  keyPath: string;
  certPem: string;
  keyPem: string;
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
