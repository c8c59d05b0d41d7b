/** `$REPRISE_HOME/up.json`: where `reprise up` says its dev server is, for later commands. */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';

export const UpState = z.object({
  address: z.string().min(1),
  namespace: z.string().min(1),
  uiUrl: z.string().optional(),
  /** The `reprise up` process (or the server's): a dead pid makes the file stale. */
  pid: z.number().int().positive(),
  startedAt: z.string().optional(),
  /** Where its in-process worker logs (workflow and activity failures): named by later commands. */
  logFile: z.string().optional(),
});
export type UpState = z.infer<typeof UpState>;

export const upStateFile = (home: string) => path.join(home, 'up.json');

export async function writeUpState(home: string, state: UpState): Promise<void> {
  await mkdir(home, { recursive: true });
  const file = upStateFile(home);
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(UpState.parse(state), null, 2) + '\n');
  await rename(tmp, file);
}

/** The recorded state, or undefined when there is none or it is unreadable. */
export async function readUpState(home: string): Promise<UpState | undefined> {
  let text: string;
  try {
    text = await readFile(upStateFile(home), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed = UpState.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Removes the file; with `pid`, only when it is still that process's (a newer `up` keeps its own). */
export async function clearUpState(home: string, pid?: number): Promise<void> {
  if (pid !== undefined && (await readUpState(home))?.pid !== pid) return;
  await rm(upStateFile(home), { force: true });
}
