/**
 * Everything the CLI writes. Results go to stdout (one JSON object with --json, so scripts
 * can parse it); progress, notices and logs go to stderr. Colour only on a TTY without NO_COLOR.
 */
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

export function notice(text: string): void {
  stderr.write(text + '\n');
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
