/**
 * For tests that feed a tap bytes directly: takes the frames the tap hands over (written with
 * the real tap writer, as the shipper writes them) and decodes them with the forwarder's
 * decoder into pairs, without the HTTP hop in between.
 */
import type { RRPair } from '../../src/model/traffic.js';
import type { H2Open } from '../../src/protocols/capture/frames.js';
import { TapSession } from '../../src/protocols/capture/session.js';
import {
  type ExchangeParts,
  TapWriter,
  writeAbort,
  writeClose,
  writeData,
  writeExchange,
  writeGap,
  writeOpen,
} from '../../src/protocols/capture/writer.js';
import { PairIds } from '../../src/protocols/http1/pair.js';
import type { TapOut } from '../../sidecar/shipper.js';
import type { Counters } from '../../sidecar/stats.js';

export class FrameDecoder implements TapOut {
  readonly shipping = true;
  private readonly writer = new TapWriter();
  private readonly session = new TapSession('test', new PairIds(), { maxConnections: 100 });
  private seq = 0;

  constructor(private readonly counters: Counters) {}

  exchange(x: ExchangeParts): void {
    this.counters.pairs++;
    writeExchange(this.writer, x);
  }

  h2Open(open: H2Open): boolean {
    writeOpen(this.writer, open);
    return true;
  }

  h2Data(conn: number, dir: 0 | 1, t: number, bytes: Buffer, pairs: number): boolean {
    this.counters.pairs += pairs;
    writeData(this.writer, conn, dir, t, bytes);
    return true;
  }

  h2Gap(conn: number, dir: 0 | 1, t: number, n: number): boolean {
    writeGap(this.writer, conn, dir, t, n);
    return true;
  }

  h2Close(
    _c: unknown,
    id: number,
    t: number,
    pairs: number,
    error?: { code: string; message: string },
  ): void {
    this.counters.pairs += pairs;
    writeClose(this.writer, id, t, error);
  }

  h2Abort(_c: unknown, id: number): void {
    writeAbort(this.writer, id);
  }

  release(): void {}

  /** The pairs decoded from what was handed over since the last call (as stored: JSON). */
  pairs(): RRPair[] {
    const d = this.session.decode(++this.seq, this.writer.take(), { service: 's', maxBody: 1 << 20 });
    if (d.rejected.length) throw new Error(d.rejected.join('; '));
    return d.pairs.map((p) => JSON.parse(JSON.stringify(p.pair)) as RRPair);
  }
}
