/**
 * When a runner's pump runs next: once the observed writer has drained (it was congested), or
 * at a time (the next request is due, or a ramp tick). One timer at most, the earliest asked for.
 */
import { performance } from 'node:perf_hooks';

export class PumpWakeups {
  private awaitingDrain = false;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;

  constructor(
    private readonly pump: () => void,
    private readonly writer: { whenDrained(callback: () => void): void },
  ) {}

  afterDrain(): void {
    if (this.awaitingDrain) return;
    this.awaitingDrain = true;
    this.writer.whenDrained(() => {
      this.awaitingDrain = false;
      this.pump();
    });
  }

  in(ms: number): void {
    const at = performance.now() + ms;
    if (this.timer && this.timerAt <= at) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.pump();
    }, ms);
  }

  clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
