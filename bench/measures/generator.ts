/**
 * Generator measures, the generator always as its own process (workers/generator.js reading a
 * real snapshot) against the JSON app in another:
 * - generator-vs-autocannon: req/s replaying 10,000 distinct recorded requests vs raw
 *   autocannon repeating the first of them (one URL, the recorded headers), same connections,
 *   against the Go JSON app (bench/apps/json-app.go: the client, not the app, is the limit);
 *   autocannon bare on that URL and on all 10,000 (--har) are peers; GoReplay replays the same
 *   requests from its own file format at maximum speed (counted by the app: it reports no totals).
 * - generator-rate-500 / -2000: achieved send rate vs the asked rate.
 * - memory-slow-target: peak RSS replaying 1,000,000 recorded pairs against an app that answers
 *   after 200 ms vs the same with 10,000 (the recording must be streamed, not loaded).
 */
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { encodeQuery, encodeRequest } from '../../src/generator/wire.js';
import {
  alternate,
  appCount,
  autocannon,
  distPath,
  median,
  processCpuUs,
  round,
  startGoJsonApp,
  startJsonApp,
  stopProcess,
} from '../lib/common.js';
import { ensureGoReplay } from '../lib/peers.js';
import { writeGor } from '../lib/gor.js';
import { inboundPair, writeSnapshot } from '../lib/recordings.js';
import type { BenchContext, Measure, MeasureResult, PeerResult } from '../lib/types.js';

const CONNECTIONS = 50;
const DISTINCT = 10_000;

interface GeneratorRun {
  requests: number;
  rps: number;
  /** Sends over the sending window (what a rate controls). */
  sendRate: number;
  errors: number;
  /** CPU of the whole process (plan included) per request sent, microseconds. */
  cpuUsPerRequest: number;
  /** CPU of the whole process, seconds. */
  cpuS: number;
  peakRssBytes: number | undefined;
}

interface Summary {
  requests: number;
  errors: number;
  durationMs: number;
}

/** One generator process run to its end (`--duration` bounds it), under /usr/bin/time for its CPU and peak RSS. */
async function runGeneratorProcess(
  home: string,
  snapshotId: string,
  target: string,
  out: string,
  load: { seconds: number; connections?: number; rate?: number; duration?: string },
): Promise<GeneratorRun> {
  const args = [
    '-f',
    // %M: the worker's peak resident set (its VmHWM), in KiB.
    'cpu %U %S %M',
    process.execPath,
    distPath('workers/generator.js'),
    ...['--snapshot', snapshotId, '--home', home, '--target', target, '--out', out],
    ...[
      '--connections',
      String(load.connections ?? CONNECTIONS),
      '--duration',
      load.duration ?? `${load.seconds}s`,
    ],
    ...(load.rate ? ['--rate', String(load.rate)] : []),
  ];
  const child = spawn('/usr/bin/time', args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LOG_LEVEL: 'warn' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-8000)));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const line = stdout.split('\n').find((l) => l.includes('"event":"done"'));
  if (code !== 0 || !line) throw new Error(`generator exited with ${code}: ${stderr.slice(-2000)}`);
  const s = (JSON.parse(line) as { summary: Summary }).summary;
  const [, user, sys, maxKiB] = /cpu ([\d.]+) ([\d.]+) (\d+)/.exec(stderr) ?? [];
  return {
    requests: s.requests,
    errors: s.errors,
    rps: s.requests / (s.durationMs / 1000),
    sendRate: s.requests / Math.min(load.seconds, s.durationMs / 1000),
    cpuUsPerRequest: ((Number(user) + Number(sys)) * 1e6) / Math.max(1, s.requests),
    cpuS: Number(user) + Number(sys),
    peakRssBytes: maxKiB ? Number(maxKiB) * 1024 : undefined,
  };
}

interface Setup {
  home: string;
  snapshotId: string;
  app: Awaited<ReturnType<typeof startJsonApp>>;
  out: (name: string) => string;
}

async function setup(
  ctx: BenchContext,
  pairs: number,
  app?: { delayMs?: number; go?: true },
): Promise<Setup> {
  const home = path.join(ctx.workDir, `home-${pairs}`);
  const snapshotId = await writeSnapshot(home, pairs, inboundPair);
  const started = app?.go ? await startGoJsonApp(ctx.log) : await startJsonApp({ delayMs: app?.delayMs });
  let n = 0;
  return {
    home,
    snapshotId,
    app: started,
    out: (name) => path.join(ctx.workDir, `${name}-${n++}.ndjson.gz`),
  };
}

/** The request target (path and query) of recorded request `i`, as the generator sends it. */
function recordedTarget(i: number): string {
  const req = inboundPair(i).request;
  return `${req.path}${encodeQuery(req.query)}`;
}

/**
 * The recorded requests as a HAR for `autocannon --har`: the same paths, queries and headers the
 * generator sends, so autocannon can be compared on the same traffic as well as on one URL.
 */
async function recordedHar(file: string, appUrl: string): Promise<void> {
  const entries = Array.from({ length: DISTINCT }, (_, i) => {
    const req = inboundPair(i).request;
    return {
      request: {
        method: req.method,
        url: `${appUrl}${recordedTarget(i)}`,
        headers: req.headers.map(([name, value]) => ({ name, value })),
      },
    };
  });
  await writeFile(file, JSON.stringify({ log: { version: '1.2', entries } }));
}

/** GoReplay replaying the recorded requests from a .gor file, looping, as fast as it can. */
async function goReplay(ctx: BenchContext, appUrl: string) {
  const tool = await ensureGoReplay(ctx.log);
  if (!tool.ok) return tool.reason;
  const file = path.join(ctx.workDir, 'requests.gor');
  const host = new URL(appUrl).host;
  await writeGor(
    file,
    (function* () {
      for (let i = 0; i < DISTINCT; i++) {
        const req = inboundPair(i).request;
        yield encodeRequest({
          method: req.method,
          target: recordedTarget(i),
          host,
          headers: req.headers,
          body: Buffer.alloc(0),
        });
      }
    })(),
  );
  return async (seconds: number): Promise<number> => {
    const child = spawn(
      tool.bin,
      [
        ...['--input-file', `${file}|10000%`, '--input-file-loop'],
        ...['--output-http', appUrl, '--output-http-workers', String(CONNECTIONS)],
        ...['--exit-after', `${seconds + 3}s`],
      ],
      { stdio: 'ignore' },
    );
    try {
      // Counted by the app over a window that starts once GoReplay is sending.
      await sleep(1000);
      const c0 = await appCount(appUrl);
      const t0 = performance.now();
      await sleep(seconds * 1000);
      const c1 = await appCount(appUrl);
      return (c1 - c0) / ((performance.now() - t0) / 1000);
    } finally {
      await stopProcess(child, 'SIGKILL');
    }
  };
}

async function generatorVsAutocannon(ctx: BenchContext): Promise<MeasureResult[]> {
  const rounds = ctx.quick ? 2 : 4;
  const seconds = ctx.quick ? 2 : 4;
  // The Go app: the Node one saturates its single core first, and any client fast enough to
  // keep it busy ties; on an app that is not the limit, what each client costs decides.
  const s = await setup(ctx, DISTINCT, { go: true });
  try {
    // autocannon sends the first recorded request over and over: its URL and its headers, so the
    // app parses the same header lines under both clients (the bare one-URL run is a peer below).
    const first = inboundPair(0).request;
    const oneUrl = `${s.app.url}${recordedTarget(0)}`;
    const recordedHeaders = first.headers.flatMap(([name, value]) => ['-H', `${name}=${value}`]);
    const cpu = { gen: [] as number[], run: [] as number[], ac: [] as number[] };
    // The app's own CPU per request under each: on 2 cores the app is the bottleneck, so what a
    // client's requests cost the app (their headers, their timing) decides the req/s as much as the client.
    const appCpu = { gen: [] as number[], ac: [] as number[] };
    const appUs = () => processCpuUs(s.app.child.pid!);
    // What start-up costs (modules, reading the snapshot, planning): a run that stops at once.
    const startup = await runGeneratorProcess(s.home, s.snapshotId, s.app.url, s.out('startup'), {
      seconds: 0,
      duration: '1ms',
    });
    const gen = async () => {
      const app0 = appUs();
      const g = await runGeneratorProcess(s.home, s.snapshotId, s.app.url, s.out('fast'), { seconds });
      if (g.errors) throw new Error(`generator: ${g.errors} errors`);
      appCpu.gen.push((appUs() - app0) / Math.max(1, g.requests));
      cpu.gen.push(g.cpuUsPerRequest);
      cpu.run.push(((g.cpuS - startup.cpuS) * 1e6) / Math.max(1, g.requests));
      return g.rps;
    };
    const ac = async () => {
      const app0 = appUs();
      const a = await autocannon(oneUrl, { connections: CONNECTIONS, seconds, extra: recordedHeaders });
      appCpu.ac.push((appUs() - app0) / Math.max(1, a.total));
      cpu.ac.push(a.cpuUsPerRequest);
      return a.rps;
    };
    await gen();
    await ac();
    cpu.gen.length = cpu.run.length = cpu.ac.length = appCpu.gen.length = appCpu.ac.length = 0;
    const r = await alternate(rounds, gen, ac);
    const value = median(r.a);
    const ratio = median(r.ratios);
    // autocannon on other traffic, as peers: the generator's own recorded requests (--har), which
    // tells the client's cost from what its requests cost the app; and one URL with no recorded
    // headers, what autocannon reaches on the cheapest request it can send.
    const autocannonPeer = async (name: string, url: string, extra: string[]): Promise<PeerResult> => {
      const rps: number[] = [];
      const app: number[] = [];
      let errors = 0;
      for (let i = 0; i < Math.max(1, rounds / 2); i++) {
        const app0 = appUs();
        const a = await autocannon(url, { connections: CONNECTIONS, seconds, extra });
        errors += a.errors + a.non2xx;
        app.push((appUs() - app0) / Math.max(1, a.total));
        rps.push(a.rps);
      }
      return {
        name,
        value: round(median(rps), 0),
        ratio: round(value / median(rps)),
        note: `the app's CPU per request under it: ${round(median(app), 1)} us; ${errors} errors (requests cut at the end of a run); ratio = generator / it`,
      };
    };
    const har = path.join(ctx.workDir, 'recorded.har');
    await recordedHar(har, s.app.url);
    const peers: PeerResult[] = [
      await autocannonPeer('autocannon --har, the same recorded requests', s.app.url, ['--har', har]),
      await autocannonPeer('autocannon, one URL without the recorded headers', oneUrl, []),
    ];
    const replay = await goReplay(ctx, s.app.url);
    let ahead: boolean | null = null;
    if (typeof replay === 'string') peers.push({ name: 'GoReplay', value: null, ratio: null, note: replay });
    else {
      const gr: number[] = [];
      for (let i = 0; i < Math.max(1, rounds / 2); i++) gr.push(await replay(seconds));
      const v = median(gr);
      ahead = value > v;
      peers.push({
        name: 'GoReplay',
        value: round(v, 0),
        ratio: round(value / v),
        note: `--input-file 'F|10000%' --input-file-loop --output-http-workers ${CONNECTIONS}; req/s counted by the app; ratio = generator / GoReplay`,
      });
    }
    return [
      {
        name: 'generator-vs-autocannon',
        unit: 'req/s',
        value: round(value, 0),
        baseline: round(median(r.b), 0),
        ratio: round(ratio),
        target: '>= 1.0x autocannon and ahead of GoReplay',
        met: ratio >= 1 && ahead,
        peers,
        runs: r.ratios.map((x) => round(x)),
        notes: [
          `CPU per request: generator ${round(median(cpu.gen), 1)} us (whole process, plan included), autocannon ${round(median(cpu.ac), 1)} us (whole process)`,
          `the app's CPU per request: ${round(median(appCpu.gen), 1)} us under the generator (its recorded headers, distinct URLs), ${round(median(appCpu.ac), 1)} us under autocannon (one URL, the same headers)`,
          `generator start-up (modules, snapshot read, plan of ${DISTINCT.toLocaleString('en-US')} requests) ${round(startup.cpuS, 2)} s CPU; without it ${round(median(cpu.run), 1)} us per request`,
          `${CONNECTIONS} connections, ${seconds} s x ${rounds} alternating rounds; the generator replays ${DISTINCT.toLocaleString('en-US')} distinct requests, autocannon repeats the first of them (its URL and headers)`,
        ],
      },
    ];
  } finally {
    await s.app.stop();
  }
}

async function generatorRates(ctx: BenchContext): Promise<MeasureResult[]> {
  const seconds = ctx.quick ? 3 : 5;
  const s = await setup(ctx, DISTINCT);
  try {
    const rows: MeasureResult[] = [];
    for (const rate of [500, 2000]) {
      const g = await runGeneratorProcess(s.home, s.snapshotId, s.app.url, s.out(`rate-${rate}`), {
        seconds,
        rate,
      });
      const ratio = g.sendRate / rate;
      rows.push({
        name: `generator-rate-${rate}`,
        unit: 'req/s',
        value: round(g.sendRate, 1),
        baseline: rate,
        ratio: round(ratio, 4),
        target: 'within 2%',
        met: Math.abs(ratio - 1) <= 0.02,
        notes: [
          `${g.requests} requests sent in ${seconds} s, ${CONNECTIONS} connections, ${g.errors} errors`,
        ],
      });
    }
    return rows;
  } finally {
    await s.app.stop();
  }
}

async function memorySlowTarget(ctx: BenchContext): Promise<MeasureResult[]> {
  const big = ctx.quick ? 200_000 : 1_000_000;
  const small = 10_000;
  const seconds = ctx.quick ? 2 : 4;
  const delayMs = 200;
  ctx.log(`writing ${big.toLocaleString('en-US')} recorded pairs`);
  const bigHome = path.join(ctx.workDir, 'home-big');
  const bigId = await writeSnapshot(bigHome, big, inboundPair);
  const s = await setup(ctx, small, { delayMs });
  try {
    const run = (home: string, id: string) =>
      runGeneratorProcess(home, id, s.app.url, s.out('slow'), { seconds });
    const smallRun = await run(s.home, s.snapshotId);
    const bigRun = await run(bigHome, bigId);
    const [a, b] = [bigRun.peakRssBytes, smallRun.peakRssBytes];
    const ratio = a && b ? a / b : null;
    const mib = (x: number | undefined) => (x === undefined ? null : round(x / 2 ** 20, 1));
    return [
      {
        name: 'memory-slow-target',
        unit: 'MiB',
        value: mib(a),
        baseline: mib(b),
        ratio: ratio === null ? null : round(ratio),
        target: 'grows < 1.5x',
        met: ratio === null ? null : ratio < 1.5,
        notes: [
          `peak RSS (VmHWM) of the generator replaying ${big.toLocaleString('en-US')} vs ${small.toLocaleString('en-US')} recorded pairs; the app answers after ${delayMs} ms; ${CONNECTIONS} connections for ${seconds} s`,
        ],
      },
    ];
  } finally {
    await s.app.stop();
  }
}

export const measures: (Measure & { budgetS?: number })[] = [
  { names: ['generator-vs-autocannon'], budgetS: 150, run: generatorVsAutocannon },
  { names: ['generator-rate-500', 'generator-rate-2000'], budgetS: 60, run: generatorRates },
  { names: ['memory-slow-target'], budgetS: 180, run: memorySlowTarget },
];
