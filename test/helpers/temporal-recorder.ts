/**
 * A `temporal` on PATH that writes each invocation's arguments to a file, then runs the real
 * binary: how a test sees whether a command started a Temporal dev server (`server start-dev`).
 */
import { chmod, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ensureTemporalBinary } from '../../src/temporal/binary.js';

export interface TemporalRecorder {
  /** PATH with the recording `temporal` first. */
  PATH: string;
  /** The argument lines of every run so far. */
  calls(): Promise<string[]>;
}

export async function recordTemporalRuns(): Promise<TemporalRecorder> {
  const real = await ensureTemporalBinary();
  const dir = await mkdtemp(path.join(tmpdir(), 'reprise-temporal-recorder-'));
  const log = path.join(dir, 'calls.txt');
  const script = path.join(dir, 'temporal');
  await writeFile(script, `#!/bin/sh\nprintf '%s\\n' "$*" >> '${log}'\nexec '${real}' "$@"\n`);
  await chmod(script, 0o755);
  return {
    PATH: `${dir}${path.delimiter}${process.env.PATH ?? ''}`,
    calls: async () => (await readFile(log, 'utf8').catch(() => '')).split('\n').filter(Boolean),
  };
}
