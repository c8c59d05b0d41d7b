/**
 * The capture sidecar's cost (issue 6): throughput through it against direct and the floors
 * any Node.js proxy reaches, completeness of the recording at full load against GoReplay's
 * passive capture, and p99 at a fixed 1,000 req/s (outbound TLS interception: sidecar-tls.ts).
 * The sidecar always runs as in production: its own process, shipping every
 * pair to a forwarder process that writes a real store.
 */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { startCaptureStack, sidecarStats, startSidecar, type CaptureStack } from '../lib/capture-stack.js';
import {
  autocannon,
  distPath,
  median,
  processCpuUs,
  roundRobin,
  round,
  startJsonApp,
  startReady,
  stopProcess,
  type LoadResult,
  type Started,
} from '../lib/common.js';
import { countGor } from '../lib/gor.js';
import { peer, startMitmReverse } from '../lib/peer-runs.js';
import { ensureGoReplay } from '../lib/peers.js';
import type { BenchContext, Measure, PeerResult } from '../lib/types.js';

const CONNECTIONS = 50;

/** Runs `fn` with the JSON app and a capture stack in front of it (recording open), then stops both. */
async function withInboundCapture<T>(
  ctx: BenchContext,
  snapshotId: string,
  fn: (app: Started & { url: string; port: number }, stack: CaptureStack) => Promise<T>,
): Promise<T> {
  const app = await startJsonApp();
  try {
    const stack = await startCaptureStack({ workDir: ctx.workDir, appPort: app.port });
    try {
      await stack.open(snapshotId);
      return await fn(app, stack);
    } finally {
      await stack.stop();
    }
  } finally {
    await app.stop();
  }
}

const throughput: Measure = {
  names: ['sidecar-throughput'],
  budgetS: 200,
  run: (ctx) =>
    withInboundCapture(ctx, 'throughput', async (app, stack) => {
      const seconds = ctx.quick ? 2 : 3;
      const rounds = ctx.quick ? 1 : 5;
      const floors = await Promise.all(
        ['pipe', 'http'].map((mode) =>
          startReady(process.execPath, [distPath('bench/lib/floors.js'), mode, String(app.port)]),
        ),
      );
      // The same sidecar with its forwarder off these two cores, as in a cluster where the
      // forwarder is a pod of its own: it ships every batch to a sink that reads and discards it.
      const sink = await startReady(process.execPath, [distPath('bench/lib/floors.js'), 'sink']);
      const remote = await startSidecar({ appPort: app.port }, `http://127.0.0.1:${Number(sink.ready.port)}`);
      floors.push(remote, sink);
      try {
        const url = (s: Started) => `http://127.0.0.1:${Number(s.ready.port)}`;
        const sidecarUrl = `http://127.0.0.1:${stack.inPort}`;
        const urls: Record<string, string> = {
          direct: app.url,
          sidecar: sidecarUrl,
          pipe: url(floors[0]),
          'http-proxy': url(floors[1]),
          'sidecar-remote-forwarder': `http://127.0.0.1:${Number(remote.ready.inPort)}`,
        };
        ctx.log(`warm-up ${Object.keys(urls).join(', ')}`);
        for (const u of Object.values(urls)) await autocannon(u, { connections: CONNECTIONS, seconds: 1 });
        // CPU per request of what sits in the path (from /proc): steadier than req/s on a shared machine.
        const inPath: Record<string, number[]> = {
          direct: [app.child.pid!],
          sidecar: [stack.sidecar.child.pid!, stack.forwarder.child.pid!],
          pipe: [floors[0].child.pid!],
          'http-proxy': [floors[1].child.pid!],
          'sidecar-remote-forwarder': [remote.child.pid!],
        };
        const cpu = Object.fromEntries(Object.keys(urls).map((n) => [n, { us: [0, 0], requests: 0 }]));
        const load = (name: string) => async () => {
          const before = inPath[name].map(processCpuUs);
          const r = await autocannon(urls[name], { connections: CONNECTIONS, seconds });
          inPath[name].forEach((pid, i) => (cpu[name].us[i] += processCpuUs(pid) - before[i]));
          cpu[name].requests += r.total;
          ctx.log(`${name}: ${Math.round(r.rps)} req/s (${r.errors} errors, ${r.non2xx} non-2xx)`);
          return r.rps;
        };
        const perReq = (name: string, i = 0) => Math.round(cpu[name].us[i] / Math.max(1, cpu[name].requests));
        const res = await roundRobin(rounds, Object.fromEntries(Object.keys(urls).map((n) => [n, load(n)])));
        const ratios = res.sidecar.map((s, i) => s / res.direct[i]);
        const ratioVs = (side: string, of = 'sidecar') => median(res[of].map((s, i) => s / res[side][i]));
        const floorPeer = (name: string, side: string): PeerResult => ({
          name,
          value: round(median(res[side]), 1),
          ratio: round(ratioVs(side)),
          note: `${round(median(res[side].map((v, i) => v / res.direct[i])))}x direct`,
        });
        const directMedian = median(res.direct);
        const sidecarMedian = median(res.sidecar);
        const mitm = await peer(
          'mitmproxy 11 reverse -w',
          () => startMitmReverse(ctx, app.url),
          async (u) => (await autocannon(u, { connections: CONNECTIONS, seconds: ctx.quick ? 1 : 3 })).rps,
          (v) => sidecarMedian / v,
          (v) => `${round(v / directMedian, 4)}x direct (one short run)`,
        );
        const manifest = await stack.seal('throughput');
        const remoteStats = await sidecarStats(remote);
        const ratio = median(ratios);
        return [
          {
            name: 'sidecar-throughput',
            unit: 'req/s',
            value: round(sidecarMedian, 1),
            baseline: round(directMedian, 1),
            ratio: round(ratio),
            target: '>= 0.5x direct',
            met: ratio >= 0.5,
            peers: [
              floorPeer('net socket pipe (no parsing)', 'pipe'),
              floorPeer('node:http pass-through proxy', 'http-proxy'),
              mitm,
            ],
            runs: ratios.map((r) => round(r)),
            notes: [
              `autocannon -c ${CONNECTIONS}, ${seconds} s per side, ${rounds} rounds (order reversed every other round); median of per-round ratios`,
              `CPU per request in the path: sidecar ${perReq('sidecar')} us + forwarder ${perReq('sidecar', 1)} us; ` +
                `socket pipe ${perReq('pipe')} us; http proxy ${perReq('http-proxy')} us (the app: ${perReq('direct')} us)`,
              // Issue 16's targets: the sidecar's own cost against the pipe's, the forwarder apart.
              `sidecar vs socket pipe: CPU per request ${round(perReq('sidecar') / Math.max(1, perReq('pipe')))}x (aim <= 1.3x), ` +
                `req/s ${round(ratioVs('pipe'))}x (aim >= 0.8x)`,
              `recorded ${manifest.counts.pairs} pairs into the store during the rounds`,
              `the sidecar with its forwarder off these cores (batches POSTed to a discarding sink): ${perReq('sidecar-remote-forwarder')} us CPU per request, ` +
                `${round(perReq('sidecar-remote-forwarder') / Math.max(1, perReq('pipe')))}x the pipe's; req/s ${round(ratioVs('pipe', 'sidecar-remote-forwarder'))}x the pipe; ` +
                `${remoteStats.shipped} of ${remoteStats.pairs} pairs shipped, ${remoteStats.dropped} dropped`,
            ],
          },
        ];
      } finally {
        await Promise.all(floors.map((f) => f.stop()));
      }
    }),
};

const completeness: Measure = {
  names: ['capture-completeness'],
  budgetS: 90,
  run: (ctx) =>
    withInboundCapture(ctx, 'completeness', async (app, stack) => {
      // A fixed number of requests (-a): autocannon waits for every answer, so counts are exact.
      const amount = ctx.quick ? 5000 : 40_000;
      const sidecar = await autocannon(`http://127.0.0.1:${stack.inPort}`, {
        connections: CONNECTIONS,
        seconds: 0,
        amount,
      });
      ctx.log(`through the sidecar: ${sidecar.total} answered at ${Math.round(sidecar.rps)} req/s`);
      const manifest = await stack.seal('completeness');
      let recorded = 0;
      let answered = 0;
      for await (const pair of stack.store.readPairs(manifest.id)) {
        recorded++;
        if (pair.response?.status === 200 && !pair.error) answered++;
      }
      const stats = await stack.stats();
      const completed = sidecar.total;
      const value = recorded / completed;
      const direct = await autocannon(app.url, { connections: CONNECTIONS, seconds: 0, amount });
      const gor = await goReplayCapture(ctx, app, amount);
      const peers: PeerResult[] = gor.ok
        ? [
            {
              name: 'GoReplay 1.3 passive capture: complete pairs / requests',
              value: round(gor.pairs / gor.load.total, 4),
              ratio: round(value / (gor.pairs / gor.load.total), 4),
              note: `${gor.requests} requests, ${gor.responses} responses recorded for ${gor.load.total} answered`,
            },
            {
              name: 'GoReplay 1.3 capturing: req/s beside the app',
              value: round(gor.load.rps, 1),
              ratio: round(sidecar.rps / gor.load.rps),
              note: `${round(gor.load.rps / direct.rps)}x direct (one run each, -a ${amount})`,
            },
          ]
        : [{ name: 'GoReplay 1.3 passive capture', value: null, ratio: null, note: gor.reason }];
      return [
        {
          name: 'capture-completeness',
          unit: 'pairs/request',
          value: round(value, 6),
          baseline: gor.ok ? round(gor.pairs / gor.load.total, 6) : null,
          ratio: gor.ok ? round(value / (gor.pairs / gor.load.total), 4) : null,
          target: 'exactly 1.0 (nothing lost, nothing doubled)',
          met: recorded === completed && answered === completed && sidecar.errors === 0,
          peers,
          notes: [
            `${completed} requests answered (autocannon -c ${CONNECTIONS} -a ${amount}), ${recorded} pairs in the sealed snapshot, ${answered} of them with their 200 response`,
            `sidecar: ${stats.dropped} dropped, ${stats.overflows} overflows, ${stats.parseErrors} parse errors; ${round(sidecar.rps / direct.rps)}x direct during the run`,
            'baseline = GoReplay: its complete request+response pairs / requests answered, in the same run',
          ],
        },
      ];
    }),
};

/** GoReplay capturing the direct app's loopback traffic while autocannon sends `amount` requests. */
async function goReplayCapture(
  ctx: BenchContext,
  app: { url: string; port: number },
  amount: number,
): Promise<
  | { ok: true; load: LoadResult; requests: number; responses: number; pairs: number }
  | { ok: false; reason: string }
> {
  const gor = await ensureGoReplay(ctx.log);
  if (!gor.ok) return { ok: false, reason: gor.reason.split('\n')[0] };
  const file = path.join(ctx.workDir, 'capture.gor');
  const child = spawn(
    gor.bin,
    [
      '--input-raw',
      `127.0.0.1:${app.port}`,
      '--input-raw-track-response',
      '--output-file',
      file,
      '--output-file-append',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  try {
    // GoReplay prints its BPF filter once the capture is open; give it that long (bounded).
    const deadline = Date.now() + 10_000;
    while (!/BPF Filter/.test(stderr) && child.exitCode === null && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    if (child.exitCode !== null)
      return { ok: false, reason: `goreplay exited: ${stderr.trim().slice(-300)}` };
    await new Promise((r) => setTimeout(r, 500));
    const load = await autocannon(app.url, { connections: CONNECTIONS, seconds: 0, amount });
    // It flushes its output file every second; wait two, then stop it (SIGINT flushes too).
    await new Promise((r) => setTimeout(r, 2000));
    await stopProcess(child, 'SIGINT');
    const counts = existsSync(file)
      ? countGor(await readFile(file))
      : { requests: 0, responses: 0, pairs: 0 };
    ctx.log(`GoReplay: ${counts.pairs} pairs for ${load.total} answered at ${Math.round(load.rps)} req/s`);
    return { ok: true, load, ...counts };
  } finally {
    await stopProcess(child);
  }
}

const p99: Measure = {
  names: ['sidecar-p99-1k'],
  // 7 rounds of 2 x 5 s, warm-ups, start and seal.
  budgetS: 130,
  run: (ctx) =>
    withInboundCapture(ctx, 'p99', async (app, stack) => {
      const rate = 1000;
      const seconds = ctx.quick ? 2 : 5;
      const rounds = ctx.quick ? 1 : 7;
      const at =
        (u: string, s = seconds) =>
        () =>
          autocannon(u, { connections: 10, seconds: s, rate });
      const sidecarUrl = `http://127.0.0.1:${stack.inPort}`;
      await at(app.url, 2)();
      await at(sidecarUrl, 2)();
      const res = await roundRobin(rounds, { direct: at(app.url), sidecar: at(sidecarUrl) });
      const diffs = res.sidecar.map((s, i) => s.latency.p99 - res.direct[i].latency.p99);
      for (const [i, d] of diffs.entries()) {
        ctx.log(
          `round ${i + 1}: direct p99 ${res.direct[i].latency.p99} ms at ${Math.round(res.direct[i].rps)} req/s, ` +
            `sidecar ${res.sidecar[i].latency.p99} ms at ${Math.round(res.sidecar[i].rps)} req/s (+${round(d, 2)})`,
        );
      }
      const value = median(res.sidecar.map((r) => r.latency.p99));
      const baseline = median(res.direct.map((r) => r.latency.p99));
      const diff = median(diffs);
      const p50diff = median(res.sidecar.map((s, i) => s.latency.p50 - res.direct[i].latency.p50));
      // What is noise: direct's own p99 from round to round.
      const directP99 = res.direct.map((r) => r.latency.p99);
      const spread = Math.max(...directP99) - Math.min(...directP99);
      return [
        {
          name: 'sidecar-p99-1k',
          unit: 'ms',
          value: round(value, 2),
          baseline: round(baseline, 2),
          ratio: baseline > 0 ? round(value / baseline) : null,
          target: '<= +2 ms over direct',
          met: diff <= 2,
          runs: diffs.map((d) => round(d, 2)),
          notes: [
            `p99 +${round(diff, 2)} ms over direct (median of per-round differences; runs = those differences)`,
            `p50 +${round(p50diff, 2)} ms; autocannon -R ${rate} -c 10, ${seconds} s per side, ${rounds} rounds`,
            `direct's own p99 round to round: ${directP99.map((v) => round(v, 2)).join(', ')} ms (spread ${round(spread, 2)} ms)`,
            `achieved: direct ${Math.round(median(res.direct.map((r) => r.rps)))} req/s, sidecar ${Math.round(median(res.sidecar.map((r) => r.rps)))} req/s`,
          ],
        },
      ];
    }),
};

export const measures: Measure[] = [throughput, completeness, p99];
