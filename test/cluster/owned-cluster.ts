/**
 * A dev cluster started by another process (its owner), which a test can SIGKILL to check that
 * the watchdog cleans up after it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { DevClusterOptions } from '../../tools/dev-cluster/index.js';
import { projectRoot } from '../../src/base/project-root.js';

/** Starts the owner and resolves once its cluster is ready; the owner then idles until killed. */
export async function startOwnedCluster(
  dir: string,
  opts: Pick<DevClusterOptions, 'node'> = {},
  timeoutMs = 120_000,
): Promise<ChildProcess> {
  const owner = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `const { startDevCluster } = await import(${JSON.stringify(path.join(projectRoot, 'dist/tools/dev-cluster/index.js'))});
       await startDevCluster({ dir: ${JSON.stringify(dir)}, node: ${JSON.stringify(opts.node ?? 'kwok')} });
       console.log('ready');
       setInterval(() => {}, 1000);`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`the owner process did not start its cluster within ${timeoutMs} ms`)),
        timeoutMs,
      );
      owner.stdout.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('ready')) {
          clearTimeout(timer);
          resolve();
        }
      });
      owner.once('exit', (code) => reject(new Error(`the owner process exited with ${code}`)));
    });
  } catch (err) {
    owner.kill('SIGKILL');
    throw err;
  }
  return owner;
}

export async function waitUntil(
  what: string,
  timeoutMs: number,
  check: () => boolean | Promise<boolean>,
): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !(await check()); await delay(100)) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
  }
}
