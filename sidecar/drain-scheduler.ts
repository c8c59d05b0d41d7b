/**
 * When tee'd bytes get parsed. Recorders only queue chunk references on the hot path; this
 * drains every queued recorder in one batch, later: on a timer (`intervalMs`) or on the next
 * turn of the event loop (0), and sooner when a lot is queued so memory stays bounded.
 */

export interface Drainable {
  drain(): void;
}

/** Past this many queued bytes a timer-paced scheduler drains on the next turn instead. */
const HURRY_BYTES = 4 * 1024 * 1024;

export class DrainScheduler {
  private pending: Drainable[] = [];
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  /** Bytes queued by the pending recorders (as they report them). */
  queuedBytes = 0;

  constructor(private intervalMs: number) {}

  /** `r` has queued its first chunk since its last drain. */
  add(r: Drainable): void {
    this.pending.push(r);
    if (this.timer || this.immediate) return;
    if (this.intervalMs > 0) this.timer = setTimeout(this.run, this.intervalMs);
    else this.immediate = setImmediate(this.run);
  }

  /** Called as bytes are queued; moves a timed drain forward when too much waits. */
  hurry(): void {
    if (this.queuedBytes < HURRY_BYTES || this.immediate) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.immediate = setImmediate(this.run);
  }

  /** From now on drain on every turn (shutdown: idle connections must be noticed quickly). */
  promptly(): void {
    this.intervalMs = 0;
    this.run();
  }

  readonly run = (): void => {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = this.immediate = undefined;
    const batch = this.pending;
    this.pending = [];
    this.queuedBytes = 0;
    for (const r of batch) {
      try {
        r.drain();
      } catch {
        // A recorder never throws (it stops itself); this guard keeps one bug from costing the batch.
      }
    }
  };
}
