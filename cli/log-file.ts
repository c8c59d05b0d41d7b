/**
 * The CLI's log file: what the libraries, the in-process worker and the Temporal SDK log
 * while a command runs (JSON lines), so the terminal shows only the command's own sentences.
 * One file a day, `$REPRISE_HOME/logs/reprise-YYYY-MM-DD.log`, shared by the commands of that
 * day (each run starts with a line naming its pid and arguments). Bounded: past
 * LOG_FILE_MAX_BYTES the file is renamed `.1.log` (replacing the previous one) and a new one
 * starts; files older than LOG_DAYS_KEPT days are removed when a command first writes.
 * Opened on the first line only, so a command that logs nothing creates nothing.
 */
import {
  closeSync,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import type { LogSink } from '../src/base/log.js';

export const LOG_FILE_MAX_BYTES = 8 * 1024 * 1024;
export const LOG_DAYS_KEPT = 7;
const DAY_MS = 24 * 60 * 60 * 1000;
const LOG_NAME = /^reprise-(\d{4}-\d{2}-\d{2})(\.1)?\.log$/;

export const logsDir = (home: string) => path.join(home, 'logs');
/** The file a command started at `now` writes (the day in UTC). */
export const logFilePath = (home: string, now = new Date()) =>
  path.join(logsDir(home), `reprise-${now.toISOString().slice(0, 10)}.log`);

export class CommandLogFile implements LogSink {
  readonly path: string;
  /** Lines this run wrote (the run's header line not counted). */
  lines = 0;
  /** Why the file could not be written (its lines then go to `fallback`), once tried. */
  unavailable?: string;
  private fd?: number;
  private size = 0;

  constructor(
    private readonly home: string,
    private readonly header: Record<string, unknown>,
    /** Also receives every line (--debug), and the lines when the file cannot be written. */
    private readonly fallback: LogSink,
    private readonly tee = false,
    private readonly now = new Date(),
  ) {
    this.path = logFilePath(home, now);
  }

  write(line: string): void {
    const text = line.endsWith('\n') ? line : line + '\n';
    if (this.tee || this.unavailable) this.fallback.write(text);
    if (this.unavailable) return;
    try {
      if (this.fd === undefined) this.open();
      this.append(text);
      this.lines++;
    } catch (err) {
      this.unavailable = (err as Error).message;
      if (!this.tee) this.fallback.write(text);
    }
  }

  /** Appends a line from the CLI itself (a failure's detail), counted like any other. */
  record(level: number, msg: string, fields: Record<string, unknown> = {}): void {
    this.write(
      JSON.stringify({ level, time: Date.now(), pid: process.pid, component: 'cli', msg, ...fields }),
    );
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private open(): void {
    mkdirSync(logsDir(this.home), { recursive: true });
    this.prune();
    this.fd = openSync(this.path, 'a');
    this.size = fstatSync(this.fd).size;
    const line = { level: 30, time: Date.now(), pid: process.pid, component: 'cli', ...this.header };
    this.append(JSON.stringify(line) + '\n');
  }

  private append(text: string): void {
    const bytes = Buffer.byteLength(text);
    if (this.size > 0 && this.size + bytes > LOG_FILE_MAX_BYTES) this.rotate();
    writeSync(this.fd!, text);
    this.size += bytes;
  }

  private rotate(): void {
    closeSync(this.fd!);
    renameSync(this.path, this.path.replace(/\.log$/, '.1.log'));
    this.fd = openSync(this.path, 'a');
    this.size = 0;
  }

  /** Removes the files of days older than LOG_DAYS_KEPT; other files are left alone. */
  private prune(): void {
    const oldest = new Date(this.now.getTime() - (LOG_DAYS_KEPT - 1) * DAY_MS).toISOString().slice(0, 10);
    for (const name of readdirSync(logsDir(this.home))) {
      const day = LOG_NAME.exec(name)?.[1];
      if (day && day < oldest) rmSync(path.join(logsDir(this.home), name), { force: true });
    }
  }
}
