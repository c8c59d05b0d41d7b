/**
 * The shared cursor over the request list. Every connection takes its next request here, so
 * each recorded request goes out exactly once per pass however many connections there are
 * (autocannon gives each connection its own iterator over the list, so with N connections
 * the first requests repeat N times and the later ones never go). The requests come from a
 * list held in memory (a small recording) or are read pass after pass from a stream, at most
 * `readAhead` requests ahead of the sends: memory stays bounded whatever the recording's size.
 */
import type { PlannedRequest } from './request-plan.js';

export interface NextSend {
  request: PlannedRequest;
  /** Sequence number of this send across passes. */
  seq: number;
  pass: number;
}

/** Reads one pass of the recording, in order. */
export type PassReader = (pass: number) => AsyncIterable<PlannedRequest>;

const DEFAULT_READ_AHEAD = 1024;

export class Cursor {
  private seq = 0;
  private closed = false;
  /** Streamed requests read but not yet taken, from `head` on. */
  private readonly queue: { request: PlannedRequest; pass: number }[] = [];
  private head = 0;
  private readerDone = false;
  private space: (() => void) | undefined;
  /** Why reading the recording failed, if it did (the run stops as if it were exhausted). */
  error: Error | undefined;

  /**
   * `size` requests per pass; `passes` may be Infinity (a duration decides the end).
   * `onReadable` is called when a streamed request arrives after peek() found none.
   */
  constructor(
    readonly size: number,
    private readonly passes: number,
    private readonly source: readonly PlannedRequest[] | PassReader,
    private readonly onReadable: () => void = () => undefined,
    private readonly readAhead = DEFAULT_READ_AHEAD,
  ) {
    if (typeof source === 'function' && size > 0) void this.read(source);
  }

  /** The next send, or undefined when there is none now (see `exhausted`: none ever, or not read yet). */
  peek(): NextSend | undefined {
    if (this.exhausted) return undefined;
    const seq = this.seq;
    if (typeof this.source !== 'function') {
      return { request: this.source[seq % this.size], seq, pass: Math.floor(seq / this.size) };
    }
    const queued = this.queue[this.head];
    return queued && { request: queued.request, seq, pass: queued.pass };
  }

  take(): void {
    this.seq++;
    if (typeof this.source !== 'function') return;
    this.head++;
    // Compact now and then rather than shift() on every take.
    if (this.head >= this.readAhead) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    if (this.space && this.queued <= this.readAhead / 2) this.wakeReader();
  }

  /** No more sends, whatever remains; a stream being read is closed. */
  close(): void {
    this.closed = true;
    this.wakeReader();
  }

  get exhausted(): boolean {
    if (this.closed || this.size === 0 || this.seq >= this.size * this.passes) return true;
    return this.readerDone && this.queued === 0;
  }

  /** Passes with at least one request sent. */
  get passesStarted(): number {
    return this.size === 0 ? 0 : Math.ceil(this.seq / this.size);
  }

  private get queued(): number {
    return this.queue.length - this.head;
  }

  private wakeReader(): void {
    const space = this.space;
    this.space = undefined;
    space?.();
  }

  private async read(reader: PassReader): Promise<void> {
    try {
      for (let pass = 0; pass < this.passes && !this.closed; pass++) {
        let read = 0;
        for await (const request of reader(pass)) {
          read++;
          this.queue.push({ request, pass });
          if (this.queued === 1) this.onReadable();
          while (this.queued >= this.readAhead && !this.closed) {
            await new Promise<void>((resolve) => (this.space = resolve));
          }
          if (this.closed) break;
        }
        if (read === 0) break; // the recording changed since the scan: nothing left to replay
      }
    } catch (err) {
      this.error = err as Error;
      this.closed = true;
    }
    this.readerDone = true;
    this.onReadable();
  }
}
