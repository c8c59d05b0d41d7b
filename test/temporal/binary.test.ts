/** The `temporal` CLI: found on PATH when it works there, else the cached PyPI copy. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { projectRoot } from '../../src/base/project-root.js';
import { ensureTemporalBinary } from '../../src/temporal/binary.js';

const script = path.join(projectRoot, 'scripts/ensure-temporal.mjs');
const run = (env: NodeJS.ProcessEnv) =>
  execFileSync(process.execPath, [script], { env: { ...process.env, ...env }, encoding: 'utf8' }).trim();

describe('ensureTemporalBinary', () => {
  let fakeDir: string;
  before(async () => {
    fakeDir = await mkdtemp(path.join(tmpdir(), 'reprise-path-'));
  });
  after(() => rm(fakeDir, { recursive: true, force: true }));

  it('returns a binary that runs, and the script prints the same path', async () => {
    const file = await ensureTemporalBinary();
    assert.match(execFileSync(file, ['--version'], { encoding: 'utf8' }), /^temporal version \d+\.\d+\.\d+/);
    assert.equal(run({}), file);
  });

  it('prefers a working `temporal` on PATH', async () => {
    const fake = path.join(fakeDir, 'temporal');
    await writeFile(fake, '#!/bin/sh\necho "temporal version 9.9.9 (fake)"\n');
    await chmod(fake, 0o755);
    assert.equal(run({ PATH: `${fakeDir}${path.delimiter}${process.env.PATH}` }), fake);
  });

  it('skips a `temporal` on PATH that does not run', async () => {
    const fake = path.join(fakeDir, 'temporal');
    await writeFile(fake, '#!/bin/sh\nexit 1\n');
    await chmod(fake, 0o755);
    const found = run({ PATH: `${fakeDir}${path.delimiter}${process.env.PATH}` });
    assert.notEqual(found, fake);
    assert.equal(found, await ensureTemporalBinary());
  });
});
