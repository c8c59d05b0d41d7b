/**
 * Responder measures: req/s of the responder process (workers/responder.js, as a plain host:
 * requests carry the dependency's Host header) under autocannon -c 50 from its own process.
 * - responder-100k-vs-10: 100,000 recorded pairs vs 10 (lookup is one Map get, so the same);
 *   the 100k case requests signatures spread over the whole recording.
 * - responder-vs-mockttp: 10 pairs vs mockttp with one static rule in its own process, and
 *   WireMock standalone with one stub (its JVM warmed up first).
 */
import path from 'node:path';
import { workerEnv } from '../../src/base/node-options.js';
import {
  alternate,
  autocannon,
  distPath,
  freePort,
  median,
  peakRss,
  processCpuUs,
  round,
  startOnPort,
  startReady,
  type LoadResult,
  type Started,
} from '../lib/common.js';
import { ensureWireMock, REPO_ROOT } from '../lib/peers.js';
import {
  DEPENDENCY_HOST,
  outboundPair,
  outboundPath,
  seeded,
  writeHar,
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
const timing = (ctx: BenchContext): Timing =>
  ctx.quick ? { rounds: 2, seconds: 2, warmupS: 1 } : { rounds: 4, seconds: 4, warmupS: 2 };

/** A target under load: a base URL and the HAR autocannon replays against it. */
interface Target {
  name: string;
  started: Started;
  url: string;
  har: string;
}

async function startResponderProcess(home: string, snapshotId: string): Promise<Started & { url: string }> {
  const s = await startReady(
    process.execPath,
    [distPath('workers/responder.js'), '--snapshot', snapshotId, '--home', home],
    { env: workerEnv('responder', { LOG_LEVEL: 'warn' }), timeoutMs: 120_000 },
  );
  return { ...s, url: `http://127.0.0.1:${Number(s.ready.port)}` };
}

/** Responder with `pairs` recorded outbound pairs, and a HAR over `targets` of them. */
async function responderTarget(
  ctx: BenchContext,
  name: string,
  pairs: number,
  targets: string[],
): Promise<Target> {
  const home = path.join(ctx.workDir, `home-${pairs}`);
  const id = await writeSnapshot(home, pairs, outboundPair);
  const started = await startResponderProcess(home, id);
  const har = path.join(ctx.workDir, `${name}.har`);
  await writeHar(har, started.url, DEPENDENCY_HOST, targets);
  return { name, started, url: started.url, har };
}

/** `count` targets cycling over the first `pairs` recorded ones. */
const cycling = (pairs: number, count: number) =>
  Array.from({ length: count }, (_, i) => outboundPath(i % pairs));

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
  const t = timing(ctx);
  const big = 100_000;
  const next = seeded(6);
  const spread = Array.from({ length: HAR_ENTRIES }, () => outboundPath(next(big)));
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
        target: '>= 0.9',
        met: ratio >= 0.9,
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

/** The same recorded answer as outbound pair 0, from one static mockttp rule, framed. */
const MOCKTTP_SOURCE = `
const { getLocal } = require('mockttp');
const body = ${JSON.stringify(outboundPair(0).response!.body!.data)};
const mock = getLocal({ recordTraffic: false, cors: false, suggestChanges: false });
(async () => {
  // Without content-length autocannon counts no completed responses.
  await mock.forAnyRequest().always().thenReply(200, body, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
  });
  await mock.start();
  console.log(JSON.stringify({ port: mock.port }));
})();
`;

async function startMockttp(ctx: BenchContext): Promise<Target> {
  const started = await startReady(process.execPath, ['-e', MOCKTTP_SOURCE], { cwd: REPO_ROOT });
  const url = `http://127.0.0.1:${Number(started.ready.port)}`;
  const har = path.join(ctx.workDir, 'mockttp.har');
  await writeHar(har, url, DEPENDENCY_HOST, cycling(10, HAR_ENTRIES));
  return { name: 'mockttp', started, url, har };
}

/** WireMock standalone with one stub, or why it could not run. */
async function startWireMock(ctx: BenchContext): Promise<Target | string> {
  const tool = await ensureWireMock(ctx.log);
  if (!tool.ok) return tool.reason;
  const port = await freePort();
  const started = await startOnPort(
    tool.java,
    ['-jar', tool.jar, '--port', String(port), '--disable-banner'],
    { port, timeoutMs: 60_000, cwd: ctx.workDir },
  );
  const url = `http://127.0.0.1:${port}`;
  const pair = outboundPair(0);
  const res = await fetch(`${url}/__admin/mappings`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      request: { method: 'ANY', urlPattern: '.*' },
      response: {
        status: 200,
        body: pair.response!.body!.data,
        headers: { 'content-type': 'application/json' },
      },
    }),
  });
  if (!res.ok) {
    await started.stop();
    return `WireMock: adding the stub answered ${res.status}`;
  }
  const har = path.join(ctx.workDir, 'wiremock.har');
  await writeHar(har, url, DEPENDENCY_HOST, cycling(10, HAR_ENTRIES));
  return { name: 'WireMock', started, url, har };
}

async function responderVsMockttp(ctx: BenchContext): Promise<MeasureResult[]> {
  const t = timing(ctx);
  const ours = await responderTarget(ctx, 'responder', 10, cycling(10, HAR_ENTRIES));
  const mockttp = await startMockttp(ctx);
  const wiremock = await startWireMock(ctx);
  const targets = [ours, mockttp, ...(typeof wiremock === 'string' ? [] : [wiremock])];
  try {
    for (const target of targets) await load(target, t.warmupS);
    // The JVM compiles its hot paths under load: give it longer than the others.
    if (typeof wiremock !== 'string') await load(wiremock, ctx.quick ? 3 : 8);
    const rps = new Map<string, number[]>(targets.map((x) => [x.name, []]));
    const cpu = new Map<string, number[]>(targets.map((x) => [x.name, []]));
    const vsMockttp: number[] = [];
    for (let round = 0; round < t.rounds; round++) {
      // Rotate who goes first, so drift in the machine's load favours none of them.
      const order = targets.map((_, i) => targets[(i + round) % targets.length]);
      const got = new Map<string, number>();
      for (const target of order) {
        const x = await load(target, t.seconds);
        got.set(target.name, x.perSecond);
        cpu.get(target.name)!.push(x.serverCpuUs);
      }
      for (const [name, v] of got) rps.get(name)!.push(v);
      vsMockttp.push(got.get('responder')! / got.get('mockttp')!);
    }
    const value = median(rps.get('responder')!);
    const ratio = median(vsMockttp);
    const peers: PeerResult[] = [];
    let wireRatio: number | undefined;
    if (typeof wiremock === 'string')
      peers.push({ name: 'WireMock', value: null, ratio: null, note: wiremock });
    else {
      const perRound = rps.get('WireMock')!.map((w, i) => rps.get('responder')![i] / w);
      wireRatio = median(perRound);
      peers.push({
        name: 'WireMock',
        value: round(median(rps.get('WireMock')!), 0),
        ratio: round(wireRatio),
        note: 'one stub, any request; req/s; ratio = responder / WireMock per round',
      });
    }
    return [
      {
        name: 'responder-vs-mockttp',
        unit: 'req/s',
        value: round(value, 0),
        baseline: round(median(rps.get('mockttp')!), 0),
        ratio: round(ratio),
        target: '>= 0.9x mockttp and >= 1.3x WireMock',
        met: ratio >= 0.9 && (wireRatio === undefined ? null : wireRatio >= 1.3),
        peers,
        runs: vsMockttp.map((x) => round(x)),
        notes: [
          `10 recorded pairs vs one static mockttp rule (thenReply with content-length); autocannon -c ${CONNECTIONS}, ${t.seconds} s x ${t.rounds} rotating rounds`,
          `server CPU per request (less noisy than req/s here): ${[...cpu].map(([n, xs]) => `${n} ${round(median(xs), 1)} us`).join(', ')}`,
        ],
      },
    ];
  } finally {
    await Promise.all(targets.map((x) => x.started.stop()));
  }
}

export const measures: (Measure & { budgetS?: number })[] = [
  { names: ['responder-100k-vs-10'], budgetS: 120, run: responder100kVs10 },
  { names: ['responder-vs-mockttp'], budgetS: 150, run: responderVsMockttp },
];
