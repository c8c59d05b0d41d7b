/**
 * A live progress line on stderr when it is a terminal: a cli-progress bar when the total
 * is known (a capture with --duration, a replay), a status line otherwise. Nothing on a pipe
 * or with --log-json.
 */
import cliProgress from 'cli-progress';
import { jsonMessagesOn } from './output.js';

export class LiveLine {
  private readonly bar?: cliProgress.SingleBar;
  private readonly started = Date.now();
  /** JSON messages (--log-json) are for machines: no bar among them. */
  private readonly tty = Boolean(process.stderr.isTTY) && !jsonMessagesOn();

  /** `totalMs`: a time-based bar; absent: a plain status line. */
  constructor(private readonly totalMs?: number) {
    if (this.tty && totalMs) {
      this.bar = new cliProgress.SingleBar(
        { format: '{bar} {percentage}% | {status}', stream: process.stderr, hideCursor: true },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(totalMs, 0, { status: 'starting' });
    }
  }

  update(status: string, value?: number): void {
    if (!this.tty) return;
    if (this.bar) this.bar.update(Math.min(value ?? Date.now() - this.started, this.totalMs!), { status });
    else process.stderr.write(`\r\x1b[2K${status}`);
  }

  done(): void {
    if (!this.tty) return;
    if (this.bar) this.bar.stop();
    else process.stderr.write('\r\x1b[2K');
  }
}
