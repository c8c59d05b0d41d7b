/** Runs the real `reprise` bin in a child process, the way a user or a script does. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const repriseBin = path.join(projectRoot, 'bin/reprise.js');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The keys `replay --json` prints, for a local run and a `--workload` run alike. */
export const REPLAY_JSON_KEYS = [
  'errors',
  'replayId',
  'reportPath',
  'requests',
  'responder',
  'verdict',
  'workflowId',
];

export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, input?: string): Promise<CliRun> {
  return runProcess(process.execPath, [repriseBin, ...args], { NO_COLOR: '1', ...env }, input);
}

/** Any program to its end, with its output collected; `env` on top of this process's. */
export function runProcess(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
  input?: string,
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

/**
 * A command that failed as a user should see it: the exit code, exactly one line on stderr
 * matching `message`, no stack trace, nothing on stdout.
 */
export function assertOneLine(run: CliRun, code: number, message: RegExp, what = ''): void {
  const context = `${what}\nexit ${run.code}\nstderr:\n${run.stderr}`;
  assert.equal(run.code, code, context);
  assert.doesNotMatch(run.stderr, /^\s+at /m, `a stack trace: ${context}`);
  const lines = run.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line expected: ${context}`);
  assert.match(lines[0], message, context);
  assert.equal(run.stdout, '', `stdout: ${run.stdout}`);
}

/** A user's environment with no Temporal configured (no TEMPORAL_*) and sentences on stderr. */
export function plainUserEnv(home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    NO_COLOR: '1',
    REPRISE_HOME: home,
    TEMPORAL_ADDRESS: '',
    TEMPORAL_NAMESPACE: '',
    REPRISE_LOG_JSON: '',
    ...extra,
  };
}
