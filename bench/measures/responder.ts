/**
 * Responder measures: req/s of the responder process (workers/responder.js, as a plain host:
 * requests carry the dependency's Host header) under autocannon -c 50 from its own process.
 * - responder-100k-vs-10: 100,000 recorded pairs vs 10 (lookup is one Map get, so the same);
 *   the 100k case requests signatures spread over the whole recording.
 * - responder-vs-mockttp: 10 pairs vs mockttp with one static rule in its own process, and
 *   WireMock standalone with one stub (its JVM warmed up first).
 * - responder-vs-mockttp-post: 10 recorded JSON POSTs to one endpoint, told apart by their
 *   bodies, vs mockttp with one `withJsonBody` rule per recorded POST (bench/lib/mock-peers.ts).
 */
import path from 'node:path';
import { workerEnv } from '../../src/base/node-options.js';
import {
  alternate,
  autocannon,
  distPath,
  median,
  peakRss,
  processCpuUs,
  round,
  startReady,
  type LoadResult,
  type Started,
} from '../lib/common.js';
import { startPostMockttp, startStaticMockttp, startWireMock, type Peer } from '../lib/mock-peers.js';
import {
  DEPENDENCY_HOST,
  outboundPair,
  outboundPath,
  outboundPostPair,
  reserveBody,
  RESERVE_PATH,
  seeded,
  writeHar,
  writePostHar,
  writeSnapshot,
} from '../lib/recordings.js';
import type { BenchContext, Measure, MeasureResult, PeerResult } from '../lib/types.js';

const CONNECTIONS = 50;
/**
 * Request targets in each HAR. autocannon walks its list from the start on every connection and
 * builds every request of it per connection first (20,000 entries took a minute to start), so
 * the 100k case draws this many targets at random across all the recorded signatures.
 */
const HAR_ENTRIES = 1000;

interface Timing {
  rounds: number;
  seconds: number;
  warmupS: number;
}
const timing = (ctx: BenchContext, rounds = 4): Timing =>
  ctx.quick ? { rounds: 2, seconds: 2, warmupS: 1 } : { rounds, seconds: 4, warmupS: 2 };

/** A target under load: a base URL and the HAR autocannon replays against it. */
interface Target {
  name: string;
  started: Started;
  url: string;
  har: string;
}

async function startResponderProcess(home: string, snapshotId: string): Promise<Peer> {
  const started = await startReady(
    process.execPath,
    [distPath('workers/responder.js'), '--snapshot', snapshotId, '--home', home],
    { env: workerEnv('responder', { LOG_LEVEL: 'warn' }), timeoutMs: 120_000 },
  );
  return { started, url: `http://127.0.0.1:${Number(started.ready.port)}` };
}

/** The HAR a target is loaded with: GETs to these targets, or JSON POSTs with these bodies. */
type Requests = { gets: string[] } | { posts: string[] };

async function target(ctx: BenchContext, name: string, peer: Peer, requests: Requests): Promise<Target> {
  const har = path.join(ctx.workDir, `${name}.har`);
  if ('gets' in requests) await writeHar(har, peer.url, DEPENDENCY_HOST, requests.gets);
  else await writePostHar(har, peer.url, DEPENDENCY_HOST, RESERVE_PATH, requests.posts);
  return { name, started: peer.started, url: peer.url, har };
}

/** Responder with `pairs` recorded pairs (`pairOf`), loaded with `requests`. */
async function responderTarget(
  ctx: BenchContext,
  name: string,
  pairs: number,
  requests: Requests,
  pairOf = outboundPair,
): Promise<Target> {
  const home = path.join(ctx.workDir, `home-${name}`);
  const id = await writeSnapshot(home, pairs, pairOf);
  return target(ctx, name, await startResponderProcess(home, id), requests);
}

/** `count` targets cycling over the first `pairs` recorded ones. */
const cycling = (pairs: number, count: number) => ({
  gets: Array.from({ length: count }, (_, i) => outboundPath(i % pairs)),
});

/** One autocannon run; `serverCpuUs` is what the server process spent per response (from /proc). */
async function load(t: Target, seconds: number): Promise<LoadResult & { serverCpuUs: number }> {
  const pid = t.started.child.pid!;
  const cpu0 = processCpuUs(pid);
  const r = await autocannon(t.url, { connections: CONNECTIONS, seconds, extra: ['--har', t.har] });
  // A miss answers 404: every request must have been matched (or the number means nothing).
  if (r.non2xx || r.errors) throw new Error(`${t.name}: ${r.errors} errors, ${r.non2xx} non-2xx responses`);
  return { ...r, serverCpuUs: (processCpuUs(pid) - cpu0) / Math.max(1, r.total) };
}

const mb = (bytes: number | undefined) => (bytes === undefined ? NaN : round(bytes / 2 ** 20, 1));

async function responder100kVs10(ctx: BenchContext): Promise<MeasureResult[]> {
  // The two sides differ by little: more rounds keep the machine's drift out of the median.
  const t = timing(ctx, 6);
  const big = 100_000;
  const next = seeded(6);
  const spread = { gets: Array.from({ length: HAR_ENTRIES }, () => outboundPath(next(big))) };
  ctx.log(`writing ${big.toLocaleString('en-US')} recorded pairs and starting two responders`);
  const many = await responderTarget(ctx, 'responder-100k', big, spread);
  const few = await responderTarget(ctx, 'responder-10', 10, cycling(10, HAR_ENTRIES));
  try {
    await load(many, t.warmupS);
    await load(few, t.warmupS);
    const cpu = { many: [] as number[], few: [] as number[] };
    const r = await alternate(
      t.rounds,
      async () => {
        const x = await load(many, t.seconds);
        cpu.many.push(x.serverCpuUs);
        return x.perSecond;
      },
      async () => {
        const x = await load(few, t.seconds);
        cpu.few.push(x.serverCpuUs);
        return x.perSecond;
      },
    );
    const ratio = median(r.ratios);
    return [
      {
        name: 'responder-100k-vs-10',
        unit: 'req/s',
        value: round(median(r.a), 0),
        baseline: round(median(r.b), 0),
        ratio: round(ratio),
        target: '>= 0.95',
        met: ratio >= 0.95,
        runs: r.ratios.map((x) => round(x)),
        notes: [
          `peak RSS: ${mb(peakRss(many.started.child.pid!))} MiB with 100k pairs, ${mb(peakRss(few.started.child.pid!))} MiB with 10`,
          `responder CPU per request: ${round(median(cpu.many), 1)} us with 100k pairs, ${round(median(cpu.few), 1)} us with 10`,
          `autocannon -c ${CONNECTIONS}, ${t.seconds} s x ${t.rounds} alternating rounds; the 100k case requests ${HAR_ENTRIES.toLocaleString('en-US')} targets drawn across all 100k signatures`,
        ],
      },
    ];
  } finally {
    await Promise.all([many.started.stop(), few.started.stop()]);
  }
}

/** Rounds over every target, rotating who goes first; req/s and server CPU per request, by name. */
async function rotate(targets: Target[], t: Timing) {
  const rps = new Map<string, number[]>(targets.map((x) => [x.name, []]));
  const cpu = new Map<string, number[]>(targets.map((x) => [x.name, []]));
  for (let round = 0; round < t.rounds; round++) {
    // Rotate who goes first, so drift in the machine's load favours none of them.
    for (const target of targets.map((_, i) => targets[(i + round) % targets.length])) {
      const x = await load(target, t.seconds);
      rps.get(target.name)!.push(x.perSecond);
      cpu.get(target.name)!.push(x.serverCpuUs);
    }
  }
  /** Per-round ratios of `a` to `b`. */
  const ratios = (a: string, b: string) => rps.get(a)!.map((v, i) => v / rps.get(b)![i]);
  const cpuNote = `server CPU per request (less noisy than req/s here): ${[...cpu].map(([n, xs]) => `${n} ${round(median(xs), 1)} us`).join(', ')}`;
  return { rps, ratios, cpuNote };
}

/** The fields of a row that sets the responder against mockttp: req/s, per-round ratios, median ratio. */
function againstMockttp(name: string, rps: Map<string, number[]>, vsMockttp: number[]) {
  return {
    name,
    unit: 'req/s',
    value: round(median(rps.get('responder')!), 0),
    baseline: round(median(rps.get('mockttp')!), 0),
    ratio: round(median(vsMockttp)),
    runs: vsMockttp.map((x) => round(x)),
  };
}

async function responderVsMockttp(ctx: BenchContext): Promise<MeasureResult[]> {
  const t = timing(ctx);
  const ours = await responderTarget(ctx, 'responder', 10, cycling(10, HAR_ENTRIES));
  const mockttp = await target(ctx, 'mockttp', await startStaticMockttp(), cycling(10, HAR_ENTRIES));
  const wirePeer = await startWireMock(ctx.log, ctx.workDir);
  const wiremock =
    typeof wirePeer === 'string'
      ? wirePeer
      : await target(ctx, 'WireMock', wirePeer, cycling(10, HAR_ENTRIES));
  const targets = [ours, mockttp, ...(typeof wiremock === 'string' ? [] : [wiremock])];
  try {
    for (const x of targets) await load(x, t.warmupS);
    // The JVM compiles its hot paths under load: give it longer than the others.
    if (typeof wiremock !== 'string') await load(wiremock, ctx.quick ? 3 : 8);
    const { rps, ratios, cpuNote } = await rotate(targets, t);
    const vsMockttp = ratios('responder', 'mockttp');
    const ratio = median(vsMockttp);
    const peers: PeerResult[] = [];
    let wireRatio: number | undefined;
    if (typeof wiremock === 'string')
      peers.push({ name: 'WireMock', value: null, ratio: null, note: wiremock });
    else {
      wireRatio = median(ratios('responder', 'WireMock'));
      peers.push({
        name: 'WireMock',
        value: round(median(rps.get('WireMock')!), 0),
        ratio: round(wireRatio),
        note: 'one stub, any request; req/s; ratio = responder / WireMock per round',
      });
    }
    return [
      {
        ...againstMockttp('responder-vs-mockttp', rps, vsMockttp),
        target: '>= 0.9x mockttp and >= 1.3x WireMock',
        met: ratio >= 0.9 && (wireRatio === undefined ? null : wireRatio >= 1.3),
        peers,
        notes: [
          `10 recorded pairs vs one static mockttp rule (thenReply with content-length); autocannon -c ${CONNECTIONS}, ${t.seconds} s x ${t.rounds} rotating rounds`,
          cpuNote,
        ],
      },
    ];
  } finally {
    await Promise.all(targets.map((x) => x.started.stop()));
  }
}

/** Recorded POSTs told apart by their JSON bodies; every request asks for one of them. */
const POSTS = 10;
/** POSTs in the HAR, cycling over the bodies (autocannon builds every entry per connection first). */
const POST_ENTRIES = 100;

async function responderVsMockttpPost(ctx: BenchContext): Promise<MeasureResult[]> {
  const t = timing(ctx);
  const bodies = { posts: Array.from({ length: POST_ENTRIES }, (_, i) => reserveBody(i % POSTS)) };
  const ours = await responderTarget(ctx, 'responder', POSTS, bodies, outboundPostPair);
  const mockttp = await target(ctx, 'mockttp', await startPostMockttp(POSTS), bodies);
  const targets = [ours, mockttp];
  try {
    for (const x of targets) await load(x, t.warmupS);
    const { rps, ratios, cpuNote } = await rotate(targets, t);
    const vsMockttp = ratios('responder', 'mockttp');
    const ratio = median(vsMockttp);
    return [
      {
        ...againstMockttp('responder-vs-mockttp-post', rps, vsMockttp),
        target: '>= 2x mockttp',
        met: ratio >= 2,
        notes: [
          `${POSTS} recorded JSON POSTs to ${RESERVE_PATH}, one per body; every request is one of them (a miss would be a 404 and fail the row)`,
          `mockttp, the same answers: per recorded POST a rule forPost(path).withJsonBody(recorded body).always().thenReply(200, recorded body, content-type and content-length), tried in order as mockttp does; the responder matches canonical JSON (RFC 8785) by one Map lookup`,
          `autocannon -c ${CONNECTIONS} --har (${POST_ENTRIES} POSTs cycling over the ${POSTS} bodies), ${t.seconds} s x ${t.rounds} rotating rounds`,
          cpuNote,
        ],
      },
    ];
  } finally {
    await Promise.all(targets.map((x) => x.started.stop()));
  }
}

export const measures: (Measure & { budgetS?: number })[] = [
  { names: ['responder-100k-vs-10'], budgetS: 150, run: responder100kVs10 },
  { names: ['responder-vs-mockttp'], budgetS: 150, run: responderVsMockttp },
  { names: ['responder-vs-mockttp-post'], budgetS: 120, run: responderVsMockttpPost },
];
