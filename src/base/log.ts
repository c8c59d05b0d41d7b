/**
 * One root pino logger for every process. Logs go to stderr so stdout stays parseable;
 * pretty when stderr is a terminal, JSON otherwise. Secrets are redacted by path.
 * A command line points every logger (children included) at its own sink instead: the
 * CLI keeps stderr for its sentences and sends these logs to a file (setLogSink).
 */
import { pino, type Logger } from 'pino';

const redact = [
  'headers.authorization',
  'headers.cookie',
  'headers["set-cookie"]',
  'headers["x-api-key"]',
  '*.headers.authorization',
  '*.headers.cookie',
];

/** Where serialised log lines go (one JSON line per call). */
export interface LogSink {
  write(line: string): unknown;
}

/** Created on the first line, so a process that redirects early never starts the pretty thread. */
function stderrSink(): LogSink {
  if (process.stderr.isTTY && !process.env.REPRISE_LOG_JSON) {
    return pino.transport({
      target: 'pino-pretty',
      options: { destination: 2, colorize: !process.env.NO_COLOR, ignore: 'pid,hostname' },
    }) as LogSink;
  }
  return pino.destination({ dest: 2, sync: false });
}

let sink: LogSink | undefined;

export const log: Logger = pino(
  { level: process.env.REPRISE_LOG_LEVEL || process.env.LOG_LEVEL || 'info', redact },
  { write: (line: string) => (sink ??= stderrSink()).write(line) },
);

/** Sends every logger's lines to `next` from now on (the CLI's log file). */
export function setLogSink(next: LogSink): void {
  sink = next;
}

export function childLog(component: string, bindings: Record<string, unknown> = {}): Logger {
  return log.child({ component, ...bindings });
}
