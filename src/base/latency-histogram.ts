/**
 * Latencies in an HDR histogram, read back in ms to 0.01 ms (the report's precision). The unit
 * is 10 µs, so readings below ~20 ms are exact and the rest within 0.1% (3 significant digits,
 * up to an hour). The one latency counter of the project: the generator (per run and per second,
 * the report's headline numbers) and the analyzer (per endpoint, and the totals when no generator
 * summary came) both count with it.
 */
import * as hdr from 'hdr-histogram-js';
import { round2 } from './round.js';

const UNITS_PER_MS = 100;

const toMs = (units: number) => round2(units / UNITS_PER_MS);

export class LatencyHistogram {
  private readonly h: hdr.Histogram;

  /** `packed` trades recording speed for memory: for the many histograms of a report's endpoints. */
  constructor(opts: { packed?: boolean } = {}) {
    this.h = hdr.build({
      ...(opts.packed ? { bitBucketSize: 'packed' as const } : {}),
      lowestDiscernibleValue: 1,
      highestTrackableValue: 3600 * 1000 * UNITS_PER_MS,
      numberOfSignificantValueDigits: 3,
    });
  }

  get count(): number {
    return this.h.totalCount;
  }

  record(ms: number): void {
    this.h.recordValue(Math.max(1, Math.round(ms * UNITS_PER_MS)));
  }

  /** The latency at `percentile` (0-100) in ms; 0 when nothing was recorded. */
  at(percentile: number): number {
    return this.count === 0 ? 0 : toMs(this.h.getValueAtPercentile(percentile));
  }

  get min(): number {
    return this.count === 0 ? 0 : toMs(this.h.minNonZeroValue);
  }

  get mean(): number {
    return this.count === 0 ? 0 : toMs(this.h.mean);
  }

  get max(): number {
    return this.count === 0 ? 0 : toMs(this.h.maxValue);
  }

  reset(): void {
    this.h.reset();
  }

  /** HdrHistogram's compressed encoding (base64): another process merges it with addEncoded. */
  encode(): string {
    return hdr.encodeIntoCompressedBase64(this.h);
  }

  /** Adds the counts of an encoded histogram (another generator's) to this one. */
  addEncoded(text: string): void {
    this.h.add(hdr.decodeFromCompressedBase64(text));
  }
}
