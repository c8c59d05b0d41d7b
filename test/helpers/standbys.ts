/**
 * Warm standbys (activities/local/standby.ts) seen from outside, the way a user would find them:
 * processes in /proc started with `--standby` and the REPRISE_HOME of one test.
 */
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { projectRoot } from '../../src/base/project-root.js';
import { runDir } from '../../src/base/paths.js';
import { STANDBY_FLAG, STANDBY_READY_EVENT } from '../../src/base/worker-args.js';

/** The built worker script `name` (responder, generator). */
export const workerScript = (name: string) => path.join(projectRoot, 'dist/workers', `${name}.js`);

/** The pids of standbys with REPRISE_HOME `home`, only those of `script` when given. */
export async function standbyPids(home: string, script?: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    // A process that ended meanwhile (or a zombie) has no command line left.
    const args = (await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '')).split('\0');
    if (!args.includes(STANDBY_FLAG) || (script !== undefined && !args.includes(script))) continue;
    const env = (await readFile(`/proc/${entry}/environ`, 'utf8').catch(() => '')).split('\0');
    if (env.includes(`REPRISE_HOME=${home}`)) pids.push(Number(entry));
  }
  return pids;
}

/** The idle standbys' logs (under `home`) that say their standby is loaded and warm. */
export async function warmStandbyLogs(home: string): Promise<string[]> {
  const dir = path.join(runDir(home), 'standby');
  const warm: string[] = [];
  for (const log of await readdir(dir).catch(() => [] as string[])) {
    const text = await readFile(path.join(dir, log), 'utf8').catch(() => '');
    if (text.includes(`"event":"${STANDBY_READY_EVENT}"`)) warm.push(log);
  }
  return warm.sort();
}
