/**
 * Streams ObservedExchange lines to `observed.ndjson.gz` in completion order. Lines are
 * batched before gzip; past a high-water mark the writer reports itself congested and the
 * generator sends nothing new until it drains, so a slow disk slows the replay instead of
 * growing memory. Written to a temporary name, synced and renamed on close: a reader never
 * sees a half-written file.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import type { Body, HeaderList } from '../model/traffic.js';

/** Lines are handed to gzip in batches of about this many characters. */
const BATCH_CHARS = 64 * 1024;
/** Bytes waiting in gzip before the writer is congested. */
const HIGH_WATER_BYTES = 4 * 1024 * 1024;
const FLUSH_EVERY_MS = 1000;

export interface ObservedResponse {
  status: number;
  headers: HeaderList;
  body?: Body;
  /** HTTP/2 trailers and the decoded gRPC answer (src/generator/h2): rare, so stringified whole. */
  trailers?: HeaderList;
  grpc?: unknown;
}

let isoSecond = NaN;
let isoPrefix = '';
/**
 * ISO text of an epoch ms. Lines complete out of send order, so their times jump back and forth
 * across a few ms; the text up to the seconds is made once per second and the ms appended.
 */
function isoAt(ms: number): string {
  const whole = Math.floor(ms);
  const second = Math.floor(whole / 1000);
  if (second !== isoSecond) {
    const text = new Date(second * 1000).toISOString();
    // Years 0-9999 only: others have a longer form, made whole each time.
    if (text.length !== 24) return new Date(whole).toISOString();
    isoSecond = second;
    isoPrefix = text.slice(0, 20);
  }
  const m = whole - second * 1000;
  return `${isoPrefix}${m < 10 ? '00' : m < 100 ? '0' : ''}${m}Z`;
}

/** One NDJSON line; `head` holds the request's fixed members (see PlannedRequest.observedHead). */
export function exchangeLine(
  head: string,
  pass: number,
  sentAtMs: number,
  latencyMs: number,
  outcome: { response: ObservedResponse } | { error: string },
): string {
  const start = `{${head},"pass":${pass},"sentAt":"${isoAt(sentAtMs)}","latencyMs":${Math.round(latencyMs * 1000) / 1000}`;
  return 'response' in outcome
    ? `${start},"response":${responseJson(outcome.response)}}`
    : `${start},"error":${JSON.stringify(outcome.error)}}`;
}

/**
 * JSON.stringify(response), member for member, built from parts: the header list of a repeated
 * head is the same array (response-head.ts), so its JSON is made once; a body's text is the
 * only string left to escape.
 */
function responseJson(r: ObservedResponse): string {
  const body = r.body === undefined ? '' : `,"body":${bodyJson(r.body)}`;
  const trailers = r.trailers === undefined ? '' : `,"trailers":${headersJson(r.trailers)}`;
  const grpc = r.grpc === undefined ? '' : `,"grpc":${JSON.stringify(r.grpc)}`;
  return `{"status":${r.status},"headers":${headersJson(r.headers)}${body}${trailers}${grpc}}`;
}

const headerJsonOf = new WeakMap<HeaderList, string>();

function headersJson(headers: HeaderList): string {
  let json = headerJsonOf.get(headers);
  if (json === undefined) {
    json = JSON.stringify(headers);
    headerJsonOf.set(headers, json);
  }
  return json;
}

/** Body's members in its schema's order (src/model/traffic.ts). */
function bodyJson(b: Body): string {
  const decoded = b.decodedFrom === undefined ? '' : `,"decodedFrom":"${b.decodedFrom}"`;
  return `{"encoding":"${b.encoding}","data":${JSON.stringify(b.data)},"size":${b.size},"truncated":${b.truncated}${decoded}}`;
}

export class ObservedWriter {
  lines = 0;
  private batch: string[] = [];
  private batchChars = 0;
  private waiting: (() => void)[] = [];
  private failure: Error | undefined;
  private readonly flusher: NodeJS.Timeout;

  private constructor(
    readonly path: string,
    private readonly tmpPath: string,
    private readonly gzip: zlib.Gzip,
    private readonly done: Promise<void>,
  ) {
    gzip.on('drain', () => this.release());
    this.flusher = setInterval(() => this.flush(), FLUSH_EVERY_MS).unref();
    done.catch((err: Error) => {
      this.failure = err;
      this.release();
    });
  }

  static async open(file: string): Promise<ObservedWriter> {
    await mkdir(path.dirname(file), { recursive: true });
    const tmpPath = `${file}.partial`;
    const out = createWriteStream(tmpPath);
    await once(out, 'open');
    const gzip = zlib.createGzip({ level: zlib.constants.Z_BEST_SPEED });
    const done = pipeline(gzip, out).then(async () => {
      // fsync applies to the file, whichever descriptor asks.
      const handle = await open(tmpPath, 'r+');
      await handle.sync().finally(() => handle.close());
    });
    return new ObservedWriter(file, tmpPath, gzip, done);
  }

  /** Appends one line (without its newline). */
  write(line: string): void {
    this.lines++;
    this.batch.push(line);
    this.batchChars += line.length + 1;
    if (this.batchChars >= BATCH_CHARS) this.flush();
  }

  /** True while gzip or the disk is behind: send nothing new until `whenDrained`. */
  get congested(): boolean {
    return this.gzip.writableLength > HIGH_WATER_BYTES && !this.failure;
  }

  get failed(): Error | undefined {
    return this.failure;
  }

  whenDrained(fn: () => void): void {
    this.waiting.push(fn);
  }

  flush(): void {
    if (this.batch.length === 0 || this.failure) return;
    this.batch.push('');
    this.gzip.write(this.batch.join('\n'));
    this.batch = [];
    this.batchChars = 0;
  }

  /** Flushes, finishes the gzip stream and publishes the file under its name. */
  async close(): Promise<void> {
    clearInterval(this.flusher);
    this.flush();
    this.gzip.end();
    try {
      await this.done;
    } catch (err) {
      await rm(this.tmpPath, { force: true });
      throw err;
    }
    await rename(this.tmpPath, this.path);
  }

  private release(): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const fn of waiting) fn();
  }
}
