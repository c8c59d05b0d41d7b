/**
 * The capture sidecar's cost (issue 6): throughput through it against direct and the floors
 * any Node.js proxy reaches, completeness of the recording at full load against GoReplay's
 * passive capture, p99 at a fixed 1,000 req/s, and outbound TLS interception against direct
 * TLS and mitmproxy. The sidecar always runs as in production: its own process, shipping every
 * pair to a forwarder process that writes a real store.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { loadCa } from '../../src/tls/ca.js';
import { LeafCertificates } from '../../sidecar/tls-interception.js';
import { startCaptureStack, type CaptureStack } from '../lib/capture-stack.js';
import {
  autocannon,
  distPath,
  freePort,
  median,
  processCpuUs,
  roundRobin,
  round,
  startJsonApp,
  startOnPort,
  startReady,
  stopProcess,
  type LoadResult,
  type Started,
} from '../lib/common.js';
import { ensureGoReplay, ensureMitmproxy } from '../lib/peers.js';
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

/** Starts a peer, runs `fn` against it, stops it; an install or start failure is a null peer. */
async function peer(
  name: string,
  start: () => Promise<{ started: Started; url: string } | { reason: string }>,
  fn: (url: string) => Promise<number>,
  ratioOf: (peerValue: number) => number,
  note?: (peerValue: number) => string,
): Promise<PeerResult> {
  let started: Started | undefined;
  try {
    const s = await start();
    if ('reason' in s) return { name, value: null, ratio: null, note: s.reason.split('\n')[0] };
    started = s.started;
    const value = await fn(s.url);
    return { name, value: round(value, 1), ratio: round(ratioOf(value)), ...(note && { note: note(value) }) };
  } catch (err) {
    return { name, value: null, ratio: null, note: `failed: ${(err as Error).message.split('\n')[0]}` };
  } finally {
    await started?.stop();
  }
}

/** mitmdump in reverse mode in front of `appUrl`, writing every flow to a file. */
async function startMitmReverse(ctx: BenchContext, appUrl: string) {
  const mitm = await ensureMitmproxy(ctx.log);
  if (!mitm.ok) return { reason: mitm.reason };
  const port = await freePort();
  const started = await startOnPort(
    mitm.mitmdump,
    [
      '--mode',
      `reverse:${appUrl}`,
      '--listen-host',
      '127.0.0.1',
      '--listen-port',
      String(port),
      '--set',
      `confdir=${path.join(ctx.workDir, 'mitmproxy')}`,
      '-q',
      '-w',
      path.join(ctx.workDir, 'mitm-reverse.flows'),
    ],
    { port, timeoutMs: 60_000 },
  );
  return { started, url: `http://127.0.0.1:${port}` };
}

const throughput: Measure = {
  names: ['sidecar-throughput'],
  budgetS: 150,
  run: (ctx) =>
    withInboundCapture(ctx, 'throughput', async (app, stack) => {
      const seconds = ctx.quick ? 2 : 3;
      const rounds = ctx.quick ? 1 : 5;
      const floors = await Promise.all(
        ['pipe', 'http'].map((mode) =>
          startReady(process.execPath, [distPath('bench/lib/floors.js'), mode, String(app.port)]),
        ),
      );
      try {
        const url = (s: Started) => `http://127.0.0.1:${Number(s.ready.port)}`;
        const sidecarUrl = `http://127.0.0.1:${stack.inPort}`;
        const urls: Record<string, string> = {
          direct: app.url,
          sidecar: sidecarUrl,
          pipe: url(floors[0]),
          'http-proxy': url(floors[1]),
        };
        ctx.log(`warm-up ${Object.keys(urls).join(', ')}`);
        for (const u of Object.values(urls)) await autocannon(u, { connections: CONNECTIONS, seconds: 1 });
        // CPU per request of what sits in the path (from /proc): steadier than req/s on a shared machine.
        const inPath: Record<string, number[]> = {
          direct: [app.child.pid!],
          sidecar: [stack.sidecar.child.pid!, stack.forwarder.child.pid!],
          pipe: [floors[0].child.pid!],
          'http-proxy': [floors[1].child.pid!],
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
        const ratioVs = (side: string) => median(res.sidecar.map((s, i) => s / res[side][i]));
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
              `recorded ${manifest.counts.pairs} pairs into the store during the rounds`,
            ],
          },
        ];
      } finally {
        await Promise.all(floors.map((f) => f.stop()));
      }
    }),
};

/** The monkey line GoReplay puts between records in its .gor files. */
const GOR_SEPARATOR = Buffer.from('\n\u{1F435}\u{1F648}\u{1F649}\n');

/** Requests, responses and complete request+response pairs in a .gor file. */
export function countGor(file: Buffer): { requests: number; responses: number; pairs: number } {
  const seen = new Map<string, number>();
  let requests = 0;
  let responses = 0;
  let pairs = 0;
  for (let at = 0; at < file.length;) {
    const next = file.indexOf(GOR_SEPARATOR, at);
    const end = next === -1 ? file.length : next;
    // Each record starts with `TYPE ID TIMESTAMP LATENCY\n`: 1 = request, 2 = response.
    const nl = file.indexOf(10, at);
    const [type, id] = file.toString('latin1', at, Math.min(nl === -1 ? end : nl, end)).split(' ');
    const bit = type === '1' ? 1 : type === '2' ? 2 : 0;
    if (bit) {
      if (bit === 1) requests++;
      else responses++;
      const flags = (seen.get(id) ?? 0) | bit;
      if (flags === 3) {
        pairs++;
        seen.delete(id);
      } else seen.set(id, flags);
    }
    at = next === -1 ? file.length : next + GOR_SEPARATOR.length;
  }
  return { requests, responses, pairs };
}

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
  budgetS: 100,
  run: (ctx) =>
    withInboundCapture(ctx, 'p99', async (app, stack) => {
      const rate = 1000;
      const seconds = ctx.quick ? 2 : 5;
      const rounds = ctx.quick ? 1 : 5;
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
            `achieved: direct ${Math.round(median(res.direct.map((r) => r.rps)))} req/s, sidecar ${Math.round(median(res.sidecar.map((r) => r.rps)))} req/s`,
          ],
        },
      ];
    }),
};

interface TlsLoad {
  requests: number;
  errors: number;
  rps: number;
  cpuUsPerRequest: number;
  p99: number;
}

/** The TLS load client (bench/lib/tls-load.ts) in its own process. */
async function tlsLoad(url: string, ca: string[], seconds: number, proxy?: string): Promise<TlsLoad> {
  const args = [
    distPath('bench/lib/tls-load.js'),
    '--url',
    url,
    '--ca',
    ca.join(','),
    '--connections',
    String(CONNECTIONS),
    '--seconds',
    String(seconds),
    ...(proxy ? ['--proxy', proxy] : []),
  ];
  const { stdout } = await promisify(execFile)(process.execPath, args, {
    timeout: (seconds + 30) * 1000,
    maxBuffer: 1024 * 1024,
  });
  const r = JSON.parse(stdout.trim().split('\n').pop()!) as TlsLoad;
  if (r.requests === 0)
    throw new Error(`no request completed through ${proxy ?? 'direct'} (${r.errors} errors)`);
  return r;
}

const tlsMeasure: Measure = {
  names: ['sidecar-tls'],
  budgetS: 120,
  run: async (ctx) => {
    const seconds = ctx.quick ? 2 : 4;
    const rounds = ctx.quick ? 1 : 3;
    // The upstream's own CA and a leaf for 127.0.0.1 (minted with the sidecar's certificate code).
    const upstreamCa = await loadCa(path.join(ctx.workDir, 'upstream-ca'));
    const leaf = await (await LeafCertificates.create(upstreamCa)).issue('127.0.0.1');
    const keyFile = path.join(ctx.workDir, 'upstream-key.pem');
    const certFile = path.join(ctx.workDir, 'upstream-cert.pem');
    await writeFile(keyFile, leaf.key, { mode: 0o600 });
    await writeFile(certFile, leaf.cert);
    const upstream = await startReady(process.execPath, [
      distPath('bench/lib/https-app.js'),
      keyFile,
      certFile,
    ]);
    const target = `https://127.0.0.1:${Number(upstream.ready.port)}/`;
    const repriseCaDir = path.join(ctx.workDir, 'reprise-ca');
    let stack: CaptureStack | undefined;
    try {
      stack = await startCaptureStack({
        workDir: ctx.workDir,
        outbound: { tlsIntercept: true, caDir: repriseCaDir, extraCaFile: upstreamCa.certPath },
      });
      await stack.open('tls');
      const proxy = `http://127.0.0.1:${stack.outPort}`;
      const repriseCa = path.join(repriseCaDir, 'ca.pem');
      const side = (name: string, ca: string[], via?: string) => async () => {
        const r = await tlsLoad(target, ca, seconds, via);
        ctx.log(
          `${name}: ${Math.round(r.rps)} req/s, ${r.errors} errors, client ${Math.round(r.cpuUsPerRequest)} us/req`,
        );
        return r;
      };
      await side('warm-up direct', [upstreamCa.certPath])();
      await side('warm-up sidecar', [repriseCa], proxy)();
      const cpu0 = stack.sidecarCpuUs();
      const res = await roundRobin(rounds, {
        direct: side('direct', [upstreamCa.certPath]),
        sidecar: side('sidecar', [repriseCa], proxy),
      });
      const cpuPerReq = (stack.sidecarCpuUs() - cpu0) / res.sidecar.reduce((n, r) => n + r.requests, 0);
      const ratios = res.sidecar.map((s, i) => s.rps / res.direct[i].rps);
      const ratio = median(ratios);
      const sidecarRps = median(res.sidecar.map((r) => r.rps));
      const directRps = median(res.direct.map((r) => r.rps));
      const mitm = await peer(
        'mitmproxy 11 regular -w',
        () => startMitmRegular(ctx, upstreamCa.certPath),
        async (u) => {
          const ca = path.join(ctx.workDir, 'mitmproxy', 'mitmproxy-ca-cert.pem');
          return (await tlsLoad(target, [ca], ctx.quick ? 2 : 4, u)).rps;
        },
        (v) => sidecarRps / v,
        (v) => `${round(v / directRps, 4)}x direct (one short run)`,
      );
      const manifest = await stack.seal('tls');
      const vsMitm = mitm.ratio;
      return [
        {
          name: 'sidecar-tls',
          unit: 'req/s',
          value: round(sidecarRps, 1),
          baseline: round(directRps, 1),
          ratio: round(ratio),
          target: '>= 0.3x direct and >= 10x mitmproxy',
          met: ratio >= 0.3 && (vsMitm === null || vsMitm >= 10),
          peers: [mitm],
          runs: ratios.map((r) => round(r)),
          notes: [
            `HTTPS keep-alive client (bench/lib/tls-load.ts, ${CONNECTIONS} loops, ${seconds} s per side, ${rounds} rounds) through CONNECT with --tls-intercept vs straight to the upstream`,
            `sidecar CPU ${Math.round(cpuPerReq)} us per request; ${manifest.counts.pairs} pairs recorded`,
            ...(vsMitm === null ? ['mitmproxy could not be measured: the 10x target is unchecked'] : []),
          ],
        },
      ];
    } finally {
      await stack?.stop();
      await upstream.stop();
    }
  },
};

/** mitmdump as a regular forward proxy, trusting the upstream's CA, writing every flow. */
async function startMitmRegular(ctx: BenchContext, upstreamCa: string) {
  const mitm = await ensureMitmproxy(ctx.log);
  if (!mitm.ok) return { reason: mitm.reason };
  const port = await freePort();
  const confdir = path.join(ctx.workDir, 'mitmproxy');
  const started = await startOnPort(
    mitm.mitmdump,
    [
      '--mode',
      'regular',
      '--listen-host',
      '127.0.0.1',
      '--listen-port',
      String(port),
      '--set',
      `confdir=${confdir}`,
      '--set',
      `ssl_verify_upstream_trusted_ca=${upstreamCa}`,
      '-q',
      '-w',
      path.join(ctx.workDir, 'mitm-regular.flows'),
    ],
    { port, timeoutMs: 60_000 },
  );
  return { started, url: `http://127.0.0.1:${port}` };
}

export const measures: Measure[] = [throughput, completeness, p99, tlsMeasure];
