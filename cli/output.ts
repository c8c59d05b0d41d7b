/**
 * Everything the CLI writes. Results go to stdout (one JSON object with --json, so scripts
 * can parse it); progress and the CLI's own messages go to stderr, as short sentences, or as
 * JSON lines (pino's shape) with --log-json / REPRISE_LOG_JSON=1. Colour only on a TTY
 * without NO_COLOR. What the libraries log goes to the log file (cli/log-file.ts).
 */
import { hostname } from 'node:os';
import { stdout, stderr } from 'node:process';

const colourOn = (stream: NodeJS.WriteStream) => Boolean(stream.isTTY) && !process.env.NO_COLOR;

function paint(code: number, text: string, stream: NodeJS.WriteStream = stdout): string {
  return colourOn(stream) ? `\x1b[${code}m${text}\x1b[0m` : text;
}

export const style = {
  bold: (t: string, s?: NodeJS.WriteStream) => paint(1, t, s),
  dim: (t: string, s?: NodeJS.WriteStream) => paint(2, t, s),
  red: (t: string, s?: NodeJS.WriteStream) => paint(31, t, s),
  green: (t: string, s?: NodeJS.WriteStream) => paint(32, t, s),
  yellow: (t: string, s?: NodeJS.WriteStream) => paint(33, t, s),
  cyan: (t: string, s?: NodeJS.WriteStream) => paint(36, t, s),
};

export function printJson(value: unknown): void {
  stdout.write(JSON.stringify(value) + '\n');
}

export function printLine(text = ''): void {
  stdout.write(text + '\n');
}

let jsonMessages = false;

/** --log-json: the messages below become JSON lines; the live progress line is off. */
export function useJsonMessages(on: boolean): void {
  jsonMessages = on;
}

export const jsonMessagesOn = () => jsonMessages;

type Fields = Record<string, unknown>;

function say(level: 30 | 40 | 50, human: string, msg: string, fields: Fields): void {
  if (!jsonMessages) return void stderr.write(human + '\n');
  const line = {
    level,
    time: Date.now(),
    pid: process.pid,
    hostname: hostname(),
    component: 'cli',
    ...fields,
  };
  stderr.write(JSON.stringify({ ...line, msg }) + '\n');
}

/** Something the user should know (where to send traffic, what was started). */
export function notice(text: string, fields: Fields = {}): void {
  say(30, text, text, fields);
}

export function warning(text: string, fields: Fields = {}): void {
  say(40, style.yellow(text, stderr), text, fields);
}

/** The one line a failed command ends with: `reprise: what failed and what to do`. */
export function errorLine(text: string, fields: Fields = {}): void {
  say(50, style.red(`reprise: ${text}`, stderr), text, fields);
}

/** A plain aligned table; columns are sized to their widest cell. */
export function printTable(headers: string[], rows: (string | number)[][]): void {
  const cells = rows.map((r) => r.map(String));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]?.length ?? 0)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  printLine(style.bold(line(headers)));
  for (const r of cells) printLine(line(r));
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}
