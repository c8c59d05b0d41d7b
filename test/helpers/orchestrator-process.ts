/** The orchestrator as its own process, the way it runs in production. */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { projectRoot } from '../../src/base/project-root.js';
import { TASK_QUEUE } from '../../src/temporal/names.js';

/** `node dist/workers/orchestrator.js`, resolved once it prints its ready line. */
export async function startOrchestrator(env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  const child = spawn(process.execPath, [path.join(projectRoot, 'dist/workers/orchestrator.js')], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  const ready = new Promise<Record<string, unknown>>((resolve, reject) => {
    lines.on('line', (line) => {
      const msg = JSON.parse(line) as Record<string, unknown>;
      if (msg.event === 'ready') resolve(msg);
    });
    child.once('exit', (code) => reject(new Error(`orchestrator exited (${code}) before it was ready`)));
  });
  assert.equal((await ready).taskQueue, TASK_QUEUE);
  return child;
}
