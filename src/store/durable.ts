/** Small helpers for writes that survive a crash or power loss: fsync, then rename. */
import { randomBytes } from 'node:crypto';
import { open, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

export async function fsyncFile(file: string): Promise<void> {
  const fh = await open(file, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Makes a rename or a new entry in `dir` durable. Some filesystems refuse a directory fsync: ignored. */
export async function fsyncDir(dir: string): Promise<void> {
  let fh;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EPERM' && code !== 'EISDIR') throw err;
  } finally {
    await fh?.close();
  }
}

/**
 * Makes `file` appear whole or not at all: `write` fills a temp file beside it, which is then
 * fsynced and renamed over `file` (the folder fsynced too); on failure the temp file goes.
 */
export async function replaceAtomic(file: string, write: (tmp: string) => Promise<void>): Promise<void> {
  const tmp = `${file}.tmp-${randomBytes(4).toString('hex')}`;
  try {
    await write(tmp);
    await fsyncFile(tmp);
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await fsyncDir(path.dirname(file));
}

/** Writes `file` so that a reader sees either nothing or the whole content. */
export function writeFileAtomic(file: string, data: string): Promise<void> {
  return replaceAtomic(file, (tmp) => writeFile(tmp, data, { flag: 'wx' }));
}
