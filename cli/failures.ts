/**
 * How a command that threw ends: one line on stderr naming what failed and what to do, exit 2
 * for bad usage and 1 for the rest. A user's mistake or a failure of the world (a file, a port,
 * a server) never prints a stack trace; one appears with --debug, or for a bug in Reprise
 * (a TypeError and the like), and then says so and where the log file is.
 */
import { ZodError } from 'zod';
import { describeZodIssues } from '../src/base/issues.js';
import { CliError } from './errors.js';
import { errorLine, jsonMessagesOn, notice } from './output.js';
import type { CommandLogFile } from './log-file.js';

export type FailureKind = 'usage' | 'failure' | 'unexpected' | 'bug';

export interface Failure {
  message: string;
  exitCode: number;
  kind: FailureKind;
}

/** Errors Reprise throws on purpose for bad input or a failing dependency: their message is the story. */
const EXPECTED = new Set([
  'HarFormatError',
  'RulesFileError',
  'SnapshotNotFoundError',
  'InvalidSnapshotIdError',
  'SnapshotExistsError',
  'CorruptSnapshotError',
  'CaptureInputError',
  'RuntimeError',
  'StoreConfigError',
  'S3StoreError',
  // @temporalio/client: the server refused or went away.
  'ServiceError',
  'ConnectionError',
  'ScheduleNotFoundError',
  'WorkflowFailedError',
  'WorkflowExecutionAlreadyStartedError',
]);

/** JavaScript's own error types: a wrong assumption in the code, not in the input. */
const BUGS = new Set([
  'TypeError',
  'ReferenceError',
  'RangeError',
  'SyntaxError',
  'EvalError',
  'AssertionError',
]);

/** Node's system errors (ENOENT, EACCES, EADDRINUSE, ...), worded for a person. */
const SYSTEM_WORDS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a directory',
  ENOTDIR: 'not a directory',
  ENOSPC: 'no space left on the device',
  EADDRINUSE: 'address already in use',
  ECONNREFUSED: 'connection refused',
};

function systemMessage(err: NodeJS.ErrnoException): string {
  const words = SYSTEM_WORDS[err.code!];
  const where = err.path ?? (err as { address?: string }).address;
  return words && where ? `${where}: ${words}` : err.message;
}

/** The first line: a message with a code frame or an output dump keeps its detail for the log. */
export const firstLine = (text: string) => text.split('\n')[0].trim();

export function describeFailure(err: unknown): Failure {
  if (err instanceof CliError) {
    return { message: err.message, exitCode: err.exitCode, kind: err.exitCode === 2 ? 'usage' : 'failure' };
  }
  if (err instanceof ZodError) {
    return { message: `invalid input: ${describeZodIssues(err.issues)}`, exitCode: 2, kind: 'usage' };
  }
  if (!(err instanceof Error)) return { message: String(err), exitCode: 1, kind: 'unexpected' };
  const code = (err as NodeJS.ErrnoException).code;
  if (typeof code === 'string' && /^E[A-Z0-9]+$/.test(code)) {
    return { message: systemMessage(err), exitCode: 1, kind: 'failure' };
  }
  if (EXPECTED.has(err.name)) return { message: err.message, exitCode: 1, kind: 'failure' };
  if (BUGS.has(err.name) || err.name.startsWith('AssertionError')) {
    return { message: `${err.name}: ${err.message}`, exitCode: 1, kind: 'bug' };
  }
  return { message: err.message || err.name, exitCode: 1, kind: 'unexpected' };
}

export interface ReportOptions {
  debug: boolean;
  log: CommandLogFile;
  /** The command that ran (`replay`, `schedule pause`), for the usage hint. */
  command?: string;
}

/** Prints the failure the way its kind asks for; returns the exit code. */
export function reportFailure(err: unknown, opts: ReportOptions): number {
  const failure = describeFailure(err);
  const stack = err instanceof Error ? err.stack : undefined;
  let text = firstLine(failure.message);
  if (failure.kind === 'usage' && opts.command) text += ` (see \`reprise ${opts.command} --help\`)`;
  // The detail goes to the log when there is a story there already (the worker's), or no other place.
  const logged = failure.kind === 'bug' || failure.kind === 'unexpected' || opts.log.lines > 0;
  if (logged && failure.kind !== 'usage') {
    opts.log.record(50, failure.message, {
      err: { type: (err as Error)?.name, message: failure.message, stack },
    });
  }
  const own = logged && !opts.log.unavailable ? opts.log.path : undefined;
  const logFile = (err instanceof CliError && err.details) || own;
  const human = !jsonMessagesOn();
  if (failure.kind === 'bug') {
    errorLine(`bug: ${text}`, { bug: true, stack, ...(logFile ? { logFile } : {}) });
    if (human && stack) notice(stack.split('\n').slice(1).join('\n'));
    if (human)
      notice(`reprise: this is a bug in Reprise; please report it${logFile ? ` with ${logFile}` : ''}`);
    return failure.exitCode;
  }
  const debugStack = opts.debug && failure.kind !== 'usage' ? stack : undefined;
  errorLine(text, {
    exitCode: failure.exitCode,
    ...(logFile ? { logFile } : {}),
    ...(debugStack ? { stack } : {}),
  });
  if (human && debugStack) notice(debugStack);
  if (human && logFile) notice(`reprise: details in ${logFile}`);
  return failure.exitCode;
}
