/** The per-install DLP key: 32 random bytes in `$REPRISE_HOME/dlp.key` (mode 0600), made once. */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

export const dlpKeyPath = (home: string) => path.join(home, 'dlp.key');

export async function loadOrCreateDlpKey(home: string): Promise<Buffer> {
  const file = dlpKeyPath(home);
  try {
    return parseKey(await readFile(file, 'utf8'), file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(home, { recursive: true });
  const key = randomBytes(32);
  try {
    // `wx`: when two processes start at once, exactly one creates the key and both use it.
    await writeFile(file, key.toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
    return key;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return parseKey(await readFile(file, 'utf8'), file);
  }
}

function parseKey(text: string, file: string): Buffer {
  const hex = text.trim();
  if (!/^[0-9a-f]{32,}$/i.test(hex)) throw new Error(`${file}: expected a hex DLP key`);
  return Buffer.from(hex, 'hex');
}
