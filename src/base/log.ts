/**
 * One root pino logger for every process. Logs go to stderr so stdout stays parseable;
 * pretty when stderr is a terminal, JSON otherwise. Secrets are redacted by path.
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

function createRoot(): Logger {
  const level = process.env.REPRISE_LOG_LEVEL || process.env.LOG_LEVEL || 'info';
  const pretty = process.stderr.isTTY && !process.env.REPRISE_LOG_JSON;
  if (pretty) {
    return pino({
      level,
      redact,
      transport: {
        target: 'pino-pretty',
        options: { destination: 2, colorize: !process.env.NO_COLOR, ignore: 'pid,hostname' },
      },
    });
  }
  return pino({ level, redact }, pino.destination({ dest: 2, sync: false }));
}

export const log: Logger = createRoot();

export function childLog(component: string, bindings: Record<string, unknown> = {}): Logger {
  return log.child({ component, ...bindings });
}
