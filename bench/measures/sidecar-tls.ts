/**
 * The capture sidecar's outbound TLS interception (issue 6): an HTTPS keep-alive client through
 * the sidecar's CONNECT proxy with --tls-intercept against the same client straight to the
 * upstream, and mitmproxy as the peer. The sidecar runs as in production: its own process,
 * shipping every pair to a forwarder process that writes a real store.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { loadCa } from '../../src/tls/ca.js';
import { LeafCertificates } from '../../sidecar/tls-interception.js';
import { startCaptureStack, type CaptureStack } from '../lib/capture-stack.js';
import { distPath, median, roundRobin, round, startReady } from '../lib/common.js';
import { peer, startMitmRegular } from '../lib/peer-runs.js';
import type { Measure } from '../lib/types.js';

/** Client loops, as the sidecar's other measures use connections. */
const CONNECTIONS = 50;

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

export const measures: Measure[] = [tlsMeasure];
