/**
 * The baseline of a regression key: `<home>/regressions/<key>.json` names the replay whose
 * report later runs are compared with (the first passing run, or one the user pinned).
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface BaselineRecord {
  replayId: string;
  setAt: string;
  pinned: boolean;
}

const file = (home: string, key: string) => path.join(home, 'regressions', `${key}.json`);

export async function readBaseline(home: string, key: string): Promise<BaselineRecord | undefined> {
  try {
    return JSON.parse(await readFile(file(home, key), 'utf8')) as BaselineRecord;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export async function writeBaseline(home: string, key: string, record: BaselineRecord): Promise<void> {
  const target = file(home, key);
  await mkdir(path.dirname(target), { recursive: true });
  const tmp = `${target}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(record, null, 2) + '\n');
  await rename(tmp, target);
}
