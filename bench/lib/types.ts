/**
 * The benchmark suite's contract: each module in bench/measures/ exports `measures`, a list of
 * Measure; the runner (bench/run.ts) runs them in order, prints a table and writes
 * bench/results.json. A measure reports a ratio against a baseline measured in the same run.
 */

/** One peer measured beside a measure (GoReplay, mitmproxy, WireMock, a floor). */
export interface PeerResult {
  name: string;
  /** null when the peer could not be installed or run; `note` says why. */
  value: number | null;
  /** Reprise's value / the peer's value (for memory and latency: as named in `note`). */
  ratio: number | null;
  note?: string;
}

/** One row of results.json. */
export interface MeasureResult {
  /** kebab-case, as in the issue: `sidecar-throughput`, ... */
  name: string;
  unit: string;
  /** Reprise's value (median over runs). */
  value: number | null;
  /** The baseline measured in the same run (median). */
  baseline: number | null;
  ratio: number | null;
  /** Human-readable target, e.g. `>= 0.5x direct`. */
  target: string;
  met: boolean | null;
  peers?: PeerResult[];
  /** Per-run ratios (or values) behind the median, to show the spread. */
  runs?: number[];
  notes?: string[];
}

export interface BenchContext {
  /** A fresh folder for this measure's files (stores, logs); removed after the run. */
  workDir: string;
  /** `--quick`: fewer/shorter rounds, for a smoke run; results are not committed. */
  quick: boolean;
  log(message: string): void;
}

export interface Measure {
  /** The names of the results this measure produces (for `--only`). */
  names: string[];
  /** Seconds the runner gives it before cutting it (rows null, noted); default 240. */
  budgetS?: number;
  run(ctx: BenchContext): Promise<MeasureResult[]>;
}
