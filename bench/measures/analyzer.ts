/**
 * Analyzer measure (in this process: the analyzer is a library the orchestrator calls):
 * - analyzer-20k-vs-2k: recorded/observed pairs analysed per second for a 20,000-pair replay vs
 *   a 2,000-pair one. The analyzer streams both sides and keeps bounded state, so its rate must
 *   not fall with size. The pairs carry a timestamp that differs between recording and replay,
 *   which the noise detection must find (no assertion fails), as in a real replay.
 */
import { analyzeReplay } from '../../src/analyzer/index.js';
import { Assertions, Goals } from '../../src/config/replay.js';
import type { ObservedExchange } from '../../src/model/replay.js';
import type { RRPair } from '../../src/model/traffic.js';
import { jsonBody, makePair } from '../../tools/fixtures/pairs.js';
import { alternate, median, round } from '../lib/common.js';
import type { BenchContext, Measure, MeasureResult } from '../lib/types.js';

const T0 = Date.parse('2025-03-01T10:00:00.000Z');
const PATHS = 500;

function recordedPair(i: number): RRPair {
  const at = new Date(T0 + i).toISOString();
  return makePair({
    id: `p${i}`,
    startedAt: at,
    durationMs: 5,
    path: `/items/${i % PATHS}`,
    headers: [['host', 'orders.local']],
    responseBody: jsonBody({ id: i % PATHS, at, qty: i % 7 }),
  });
}

function observedExchange(i: number, now: string): ObservedExchange {
  return {
    pairId: `p${i}`,
    pass: 0,
    sentAt: now,
    latencyMs: 10,
    request: { method: 'GET', url: `http://127.0.0.1:8080/items/${i % PATHS}` },
    response: {
      status: 200,
      headers: [['content-type', 'application/json']],
      body: jsonBody({ id: i % PATHS, at: now, qty: i % 7 }),
    },
  };
}

async function* generate<T>(n: number, make: (i: number) => T): AsyncIterable<T> {
  for (let i = 0; i < n; i++) yield make(i);
}

/** Pairs analysed per second for one replay of `n` pairs; checks the analysis was right. */
async function pairsPerSecond(n: number): Promise<number> {
  const now = new Date().toISOString();
  const started = performance.now();
  const report = await analyzeReplay({
    recorded: generate(n, recordedPair),
    observed: generate(n, (i) => observedExchange(i, now)),
    assertions: Assertions.parse({}),
    goals: Goals.parse({}),
    meta: {
      replayId: 'bench',
      snapshotId: 'bench',
      target: 'http://127.0.0.1:8080',
      mode: 'generator-only',
      startedAt: now,
      endedAt: now,
    },
  });
  const seconds = (performance.now() - started) / 1000;
  if (report.summary.requests !== n || report.summary.assertionsFailed !== 0)
    throw new Error(
      `analysed ${report.summary.requests}/${n} requests, ${report.summary.assertionsFailed} failed assertions`,
    );
  return n / seconds;
}

async function run(ctx: BenchContext): Promise<MeasureResult[]> {
  const [large, small] = ctx.quick ? [5_000, 500] : [20_000, 2_000];
  const rounds = ctx.quick ? 2 : 5;
  await pairsPerSecond(small); // warm-up: JIT and module loading count for neither side
  const r = await alternate(
    rounds,
    () => pairsPerSecond(large),
    () => pairsPerSecond(small),
  );
  ctx.log(
    `large ${r.a.map((v) => Math.round(v)).join(', ')}; small ${r.b.map((v) => Math.round(v)).join(', ')}`,
  );
  const ratio = median(r.ratios);
  return [
    {
      name: 'analyzer-20k-vs-2k',
      unit: 'pairs/s',
      value: Math.round(median(r.a)),
      baseline: Math.round(median(r.b)),
      ratio: round(ratio),
      target: '>= 0.8x (streams: no slowdown with size)',
      met: ratio >= 0.8,
      runs: r.ratios.map((x) => round(x)),
      notes: [`${large} vs ${small} inbound pairs, one replay each, in-process; timestamps differ (noise)`],
    },
  ];
}

export const measures: Measure[] = [{ names: ['analyzer-20k-vs-2k'], budgetS: 180, run }];
