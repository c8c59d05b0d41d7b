/**
 * The capture pipeline behind the sidecar, and how fast a replay starts:
 * - `forwarder-dlp`: forwarder ingest (its own process, real store) with the default DLP vs
 *   DLP off, fed tap batches (raw heads and bodies, decoded by the forwarder) by a sender
 *   process the way sidecars ship them; the NDJSON path (`POST /v1/pairs`), ingest threads and
 *   Node 24 are in the notes.
 * - `memory-capture-1m`: the capture pipeline's peak RSS for 1,000,000 pairs vs 10,000.
 * - `replay-start-latency`: replayWorkflow start to the first request the app receives.
 */
import { workerEnv } from '../../src/base/node-options.js';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { Measure, MeasureResult } from '../lib/types.js';
import {
  alternate,
  autocannon,
  distPath,
  median,
  peakRss,
  postJson,
  processCpuUs,
  round,
  runJson,
  startJsonApp,
  startReady,
  type Started,
} from '../lib/common.js';
import { replayStartLatency } from '../lib/replay-start.js';
import { ensureNode24 } from '../lib/peers.js';
import { defaultIngestThreads } from '../../src/forwarder/lanes.js';
import { availableParallelism } from 'node:os';

const SENDER = () => distPath('bench/lib/batch-sender.js');
/** Sidecars ship 500-pair batches, one in flight each; a few sidecars feed one forwarder. */
const BATCH = 500;
const SENDERS = 4;
const MB = 1024 * 1024;

export interface ForwarderProcess extends Started {
  url: string;
  pid: number;
  home: string;
}

/**
 * `env`: more settings of the forwarder process (REPRISE_STORE, ...); `args`: more flags;
 * `node`: another Node.js binary than this process's.
 */
export async function startForwarder(
  home: string,
  dlp: boolean,
  env: Record<string, string> = {},
  more: { args?: string[]; node?: string } = {},
): Promise<ForwarderProcess> {
  const args = [distPath('workers/forwarder.js'), '--port', '0', '--home', home, ...(more.args ?? [])];
  const s = await startReady(more.node ?? process.execPath, dlp ? args : [...args, '--no-dlp'], {
    env: workerEnv('forwarder', { REPRISE_LOG_LEVEL: 'warn', REPRISE_LOG_JSON: '1', ...env }),
  });
  return { ...s, url: `http://127.0.0.1:${Number(s.ready.port)}`, pid: s.child.pid!, home };
}

export interface IngestRound {
  pairsPerSec: number;
  /** Forwarder CPU (user + system, all threads) per pair: steadier than wall time when shared. */
  cpuUsPerPair: number;
  /** Stored (uncompressed NDJSON) bytes per pair. */
  bytesPerPair: number;
}

let seq = 0;

/**
 * One recording: open it, ship `pairs` from a sender process, seal. The time runs from the
 * sender's first batch to the sealed manifest (everything fsynced and published).
 */
export async function ingest(
  fwd: ForwarderProcess,
  pairs: number,
  opts: { lazy?: boolean; ndjson?: boolean } = {},
): Promise<IngestRound> {
  const snapshotId = `bench-${process.pid}-${++seq}`;
  await postJson(`${fwd.url}/v1/recordings`, { snapshotId, service: 'orders' });
  const cpu0 = processCpuUs(fwd.pid);
  const sent = await sendPairs(fwd.url, pairs, opts);
  const manifest = await postJson<{ counts: { pairs: number; bytes: number } }>(
    `${fwd.url}/v1/recordings/${snapshotId}/seal`,
  );
  const end = Date.now();
  const cpu = processCpuUs(fwd.pid) - cpu0;
  if (manifest.counts.pairs !== pairs || sent.accepted !== pairs)
    throw new Error(
      `sent ${pairs} pairs, ${String(sent.accepted)} accepted, ${manifest.counts.pairs} sealed`,
    );
  // Disk is not what is measured: keep the work folder small.
  await rm(path.join(fwd.home, 'snapshots', snapshotId), { recursive: true, force: true });
  return {
    pairsPerSec: pairs / ((end - Number(sent.firstSendAt)) / 1000),
    cpuUsPerPair: cpu / pairs,
    bytesPerPair: manifest.counts.bytes / pairs,
  };
}

/** Ships `pairs` to one forwarder from a sender process, as sidecars ship them; its JSON summary. */
export function sendPairs(
  url: string,
  pairs: number,
  opts: { lazy?: boolean; ndjson?: boolean } = {},
): Promise<Record<string, unknown>> {
  return runJson(process.execPath, [
    SENDER(),
    '--url',
    url,
    '--pairs',
    String(pairs),
    '--batch',
    String(BATCH),
    '--concurrency',
    String(SENDERS),
    ...(opts.lazy ? ['--lazy'] : []),
    ...(opts.ndjson ? [] : ['--tap']),
  ]);
}

/**
 * Two forwarders compared: a warm-up recording on each, then `rounds` alternating recordings of
 * `pairs`, each logged. `a` is the measured one, `b` its baseline.
 */
export async function compareIngest(
  log: (line: string) => void,
  a: { fwd: ForwarderProcess; label: string },
  b: { fwd: ForwarderProcess; label: string },
  pairs: number,
  rounds: number,
): Promise<{ ratios: number[]; a: IngestRound[]; b: IngestRound[] }> {
  // Warm-up: JIT, the DLP token cache, the store's connections.
  await ingest(a.fwd, 10_000);
  await ingest(b.fwd, 10_000);
  const out = { a: [] as IngestRound[], b: [] as IngestRound[] };
  const once = (side: 'a' | 'b') => async () => {
    const { fwd, label } = side === 'a' ? a : b;
    const x = await ingest(fwd, pairs);
    out[side].push(x);
    log(`forwarder ${label}: ${Math.round(x.pairsPerSec)} pairs/s, ${round(x.cpuUsPerPair, 1)} us CPU/pair`);
    return x.pairsPerSec;
  };
  const r = await alternate(rounds, once('a'), once('b'));
  return { ratios: r.ratios, ...out };
}

const forwarderDlp: Measure = {
  names: ['forwarder-dlp'],
  // 11 recordings of 40,000 pairs (the NDJSON one and four variants included) and six warm-ups.
  budgetS: 150,
  async run(ctx) {
    const pairs = ctx.quick ? 20_000 : 40_000;
    const rounds = ctx.quick ? 1 : 3;
    const on = await startForwarder(path.join(ctx.workDir, 'dlp-on'), true);
    const off = await startForwarder(path.join(ctx.workDir, 'dlp-off'), false);
    try {
      const r = await compareIngest(
        ctx.log,
        { fwd: on, label: 'DLP on' },
        { fwd: off, label: 'DLP off' },
        pairs,
        rounds,
      );
      // The NDJSON path (pairs built by the producer) and the variants for the notes, after the rounds.
      const ndjson = [await ingest(on, pairs, { ndjson: true })];
      const nd = ndjson[0].pairsPerSec;
      ctx.log(
        `forwarder NDJSON, DLP on: ${Math.round(nd)} pairs/s, ${round(ndjson[0].cpuUsPerPair, 1)} us CPU/pair`,
      );
      const variants = await ingestVariants(ctx, pairs);
      const withDlp = r.a;
      const without = r.b;
      const value = median(withDlp.map((x) => x.pairsPerSec));
      const cpuOn = median(withDlp.map((x) => x.cpuUsPerPair));
      const cpuOff = median(without.map((x) => x.cpuUsPerPair));
      const ratio = median(r.ratios);
      const cpus = availableParallelism();
      /** Pairs/s all CPUs would take at `us` of CPU per pair. */
      const onEveryCpu = (us: number) => Math.round((cpus * 1e6) / us);
      return [
        {
          name: 'forwarder-dlp',
          unit: 'pairs/s',
          value: Math.round(value),
          baseline: Math.round(median(without.map((x) => x.pairsPerSec))),
          ratio: round(ratio),
          target: '>= 0.5x DLP off (aim: >= 50,000 pairs/s with DLP)',
          met: ratio >= 0.5,
          runs: r.ratios.map((x) => round(x)),
          notes: [
            `${pairs} pairs per run (~${Math.round(withDlp[0].bytesPerPair)} B each stored, some with secrets), ` +
              `${BATCH}-exchange tap batches (raw heads and bodies) from ${SENDERS} concurrent keep-alive senders in another process; ` +
              'timed from the first batch to the sealed snapshot',
            `NDJSON path (POST /v1/pairs, pairs already built), DLP on: ${Math.round(nd)} pairs/s, ` +
              `${round(median(ndjson.map((x) => x.cpuUsPerPair)), 1)} us CPU/pair`,
            `aim >= 50,000 pairs/s with DLP: ${value >= 50_000 ? 'met' : 'not met'} (${Math.round(value)}; ` +
              `with ${cpus} ingest threads ${Math.round(variants.threaded)})`,
            `forwarder CPU per pair: ${round(cpuOn, 1)} us with DLP, ${round(cpuOff, 1)} us without ` +
              `(${round(cpuOff / cpuOn)}x; the CPU ratio is steadier than pairs/s on a shared machine)`,
            // What the aim asks of these cores, whatever the threads: it is a CPU budget.
            `the aim's CPU budget on ${cpus} CPUs: ${round((cpus * 1e6) / 50_000, 1)} us ` +
              'per pair for the forwarder, its gzip and the senders together; at the CPU per pair above, ' +
              `all ${cpus} CPUs given to the forwarder alone would take ` +
              `${onEveryCpu(cpuOn)} pairs/s with DLP, ${onEveryCpu(cpuOff)} without`,
            `${defaultIngestThreads()} ingest threads (the default on ${cpus} CPUs); one recording ` +
              `each after the rounds, DLP on: ${variants.text}`,
          ],
        },
      ];
    } finally {
      await on.stop();
      await off.stop();
    }
  },
};

/**
 * The same ingest with every batch on the main thread and on one ingest thread per core, on Node
 * 20 and on Node 24 (the image's runtime): one warm-up and one recording each.
 */
async function ingestVariants(
  ctx: { workDir: string; log: (m: string) => void },
  pairs: number,
): Promise<{ text: string; threaded: number }> {
  const threads = ['--ingest-threads', String(availableParallelism())];
  const node24 = await ensureNode24(ctx.log);
  const inline = ['--ingest-threads', '0'];
  // The image's runtime: by default (no threads on 1-2 CPUs), and with a thread per core.
  const onNode24 = (args: string[]) =>
    node24.ok ? { node: node24.node, args } : `not run: ${node24.reason}`;
  const variants: [string, { args?: string[]; node?: string } | string][] = [
    ['main thread only (--ingest-threads 0)', { args: inline }],
    [threads.join(' '), { args: threads }],
    [`Node 24, ${inline.join(' ')}`, onNode24(inline)],
    [`Node 24, ${threads.join(' ')}`, onNode24(threads)],
  ];
  const out: string[] = [];
  let threaded = NaN;
  for (const [name, how] of variants) {
    if (typeof how === 'string') {
      out.push(`${name} ${how}`);
      continue;
    }
    const fwd = await startForwarder(path.join(ctx.workDir, `variant-${out.length}`), true, {}, how);
    try {
      await ingest(fwd, 10_000);
      const x = await ingest(fwd, pairs);
      ctx.log(
        `forwarder ${name}: ${Math.round(x.pairsPerSec)} pairs/s, ${round(x.cpuUsPerPair, 1)} us CPU/pair`,
      );
      out.push(`${name} ${Math.round(x.pairsPerSec)} pairs/s (${round(x.cpuUsPerPair, 1)} us CPU/pair)`);
      if (name === threads.join(' ')) threaded = x.pairsPerSec;
    } finally {
      await fwd.stop();
    }
  }
  return { text: out.join('; '), threaded };
}

/** Sidecar in front of the JSON app, shipping to a forwarder: peak RSS of each after `requests`. */
async function sidecarRun(
  ctx: { workDir: string },
  requests: number,
): Promise<{ sidecar: number; forwarder: number }> {
  const app = await startJsonApp();
  const fwd = await startForwarder(path.join(ctx.workDir, `sidecar-${requests}`), true);
  let sidecar: Started | undefined;
  try {
    const snapshotId = `bench-sidecar-${process.pid}-${++seq}`;
    await postJson(`${fwd.url}/v1/recordings`, { snapshotId, service: 'orders' });
    sidecar = await startReady(
      process.execPath,
      [
        distPath('workers/sidecar.js'),
        '--app-port',
        String(app.port),
        '--in-port',
        '0',
        '--out-port',
        '-1',
        '--admin-port',
        '-1',
        '--forwarder',
        fwd.url,
        '--service',
        'orders',
      ],
      { env: { REPRISE_LOG_LEVEL: 'warn', REPRISE_LOG_JSON: '1' } },
    );
    await autocannon(`http://127.0.0.1:${Number(sidecar.ready.inPort)}/api/v1/orders`, {
      connections: 50,
      seconds: 0,
      amount: requests,
    });
    const rss = { sidecar: peakRss(sidecar.child.pid!) ?? NaN, forwarder: NaN };
    // Stopping drains the sidecar's buffer into the recording.
    await sidecar.stop();
    const manifest = await postJson<{ counts: { pairs: number } }>(
      `${fwd.url}/v1/recordings/${snapshotId}/seal`,
    );
    rss.forwarder = peakRss(fwd.pid) ?? NaN;
    if (manifest.counts.pairs !== requests)
      throw new Error(`sidecar run: ${requests} requests, ${manifest.counts.pairs} pairs recorded`);
    return rss;
  } finally {
    await sidecar?.stop();
    await fwd.stop();
    await app.stop();
  }
}

/** A fresh forwarder (default DLP) per size: VmHWM is the peak over the process's life. */
async function forwarderPeak(workDir: string, pairs: number): Promise<number> {
  const fwd = await startForwarder(path.join(workDir, `mem-${pairs}`), true);
  try {
    await ingest(fwd, pairs, { lazy: true });
    return peakRss(fwd.pid) ?? NaN;
  } finally {
    await fwd.stop();
  }
}

const memoryCapture: Measure = {
  names: ['memory-capture-1m'],
  // A million pairs: ~30 s on a quiet machine, twice that when shared.
  budgetS: 180,
  async run(ctx) {
    const big = ctx.quick ? 100_000 : 1_000_000;
    const small = 10_000;
    const sidecarBig = ctx.quick ? 20_000 : 40_000;
    const fwdSmall = await forwarderPeak(ctx.workDir, small);
    const fwdBig = await forwarderPeak(ctx.workDir, big);
    ctx.log(
      `forwarder peak RSS: ${round(fwdSmall / MB, 1)} MB at ${small} pairs, ${round(fwdBig / MB, 1)} MB at ${big}`,
    );
    const scSmall = await sidecarRun(ctx, small);
    const scBig = await sidecarRun(ctx, sidecarBig);
    ctx.log(
      `sidecar peak RSS: ${round(scSmall.sidecar / MB, 1)} MB at ${small} requests, ${round(scBig.sidecar / MB, 1)} MB at ${sidecarBig}`,
    );
    const ratio = fwdBig / fwdSmall;
    const sidecarRatio = scBig.sidecar / scSmall.sidecar;
    const result: MeasureResult = {
      name: 'memory-capture-1m',
      unit: 'MB peak RSS',
      value: round(fwdBig / MB, 1),
      baseline: round(fwdSmall / MB, 1),
      ratio: round(ratio),
      target: 'grows < 1.5x',
      met: ratio < 1.5 && sidecarRatio < 1.5,
      notes: [
        `forwarder (default DLP, real store) ingesting ${big.toLocaleString('en')} vs ${small.toLocaleString('en')} ` +
          `pairs shipped as sidecars ship them (${BATCH}-exchange tap batches, ${SENDERS} senders): ` +
          "a million requests through a sidecar at a few thousand req/s would not fit the suite's time budget",
        `sidecar (real HTTP from autocannon -c 50 through it to the JSON app, shipping to a forwarder): ` +
          `${round(scSmall.sidecar / MB, 1)} MB after ${small.toLocaleString('en')} requests, ` +
          `${round(scBig.sidecar / MB, 1)} MB after ${sidecarBig.toLocaleString('en')} (${round(sidecarRatio)}x); ` +
          `its forwarder ${round(scSmall.forwarder / MB, 1)} / ${round(scBig.forwarder / MB, 1)} MB`,
        'met needs both the forwarder and the sidecar under 1.5x',
      ],
    };
    return [result];
  },
};

const replayStart: Measure = {
  names: ['replay-start-latency'],
  budgetS: 90,
  run: (ctx) => replayStartLatency(ctx),
};

export const measures: Measure[] = [forwarderDlp, memoryCapture, replayStart];
