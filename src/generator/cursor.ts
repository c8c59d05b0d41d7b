/**
 * The shared cursor over the request list. Every connection takes its next request here, so
 * each recorded request goes out exactly once per pass however many connections there are
 * (autocannon gives each connection its own iterator over the list, so with N connections
 * the first requests repeat N times and the later ones never go).
 */
export class Cursor {
  private seq = 0;
  private closed = false;

  /** `passes` may be Infinity (a duration decides the end). */
  constructor(
    readonly size: number,
    private readonly passes: number,
  ) {}

  /** Sequence number of the next send across passes, or -1 when there is none. */
  peek(): number {
    if (this.closed || this.size === 0 || this.seq >= this.size * this.passes) return -1;
    return this.seq;
  }

  take(): void {
    this.seq++;
  }

  /** No more sends, whatever remains. */
  close(): void {
    this.closed = true;
  }

  get exhausted(): boolean {
    return this.peek() < 0;
  }

  indexOf(seq: number): number {
    return seq % this.size;
  }

  passOf(seq: number): number {
    return Math.floor(seq / this.size);
  }

  /** Passes with at least one request sent. */
  get passesStarted(): number {
    return this.size === 0 ? 0 : Math.ceil(this.seq / this.size);
  }
}
