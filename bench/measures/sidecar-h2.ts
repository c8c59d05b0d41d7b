/**
 * `sidecar-h2-throughput` (issue 15): h2load (nghttp2's load generator) sending h2c with prior
 * knowledge through the capturing sidecar's inbound proxy to nghttpd, against h2load straight
 * to the same nghttpd, rounds alternating; a fixed request count per round so the pairs in the
 * sealed snapshot can be compared with the streams h2load saw succeed (every stream recorded).
 */
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startCaptureStack } from '../lib/capture-stack.js';
import { median, processCpuUs, roundRobin, round } from '../lib/common.js';
import type { Measure } from '../lib/types.js';
import { peerTools, startServer } from '../../test/protocols/peers.js';

const CLIENTS = 10;
const STREAMS = 10;

interface H2Load {
  rps: number;
  succeeded: number;
  failed: number;
}

function h2load(bin: string, url: string, requests: number): Promise<H2Load> {
  return new Promise((resolve, reject) =>
    execFile(
      bin,
      ['-n', String(requests), '-c', String(CLIENTS), '-m', String(STREAMS), url],
      { timeout: 120_000, maxBuffer: 4 << 20 },
      (err, stdout) => {
        const rps = /finished in [\d.]+m?s, ([\d.]+) req\/s/.exec(stdout);
        const reqs = /requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed/.exec(stdout);
        if (err || !rps || !reqs) reject(new Error(`h2load ${url}: ${err?.message ?? stdout.slice(-500)}`));
        else resolve({ rps: Number(rps[1]), succeeded: Number(reqs[1]), failed: Number(reqs[2]) });
      },
    ),
  );
}

const h2Throughput: Measure = {
  names: ['sidecar-h2-throughput'],
  budgetS: 200,
  async run(ctx) {
    const tools = peerTools();
    const doc = path.join(ctx.workDir, 'doc');
    await mkdir(doc, { recursive: true });
    // A JSON answer of the size the HTTP/1.1 rows use.
    await writeFile(
      path.join(doc, 'item.json'),
      JSON.stringify({ id: 1, name: 'item', tags: ['a', 'b'], n: 42 }),
    );
    const server = await startServer(tools.nghttpd, (port) => ['--no-tls', '-d', doc, String(port)]);
    const stack = await startCaptureStack({ workDir: ctx.workDir, appPort: server.port });
    try {
      await stack.open('h2');
      const requests = ctx.quick ? 5_000 : 20_000;
      const rounds = ctx.quick ? 1 : 5;
      const urls = {
        direct: `http://127.0.0.1:${server.port}/item.json`,
        sidecar: `http://127.0.0.1:${stack.inPort}/item.json`,
      };
      for (const u of Object.values(urls)) await h2load(tools.h2load, u, 2_000);
      let sidecarOk = 0;
      let cpuUs = 0;
      const load = (side: keyof typeof urls) => async () => {
        const before = [stack.sidecarCpuUs(), stack.forwarderCpuUs()];
        const r = await h2load(tools.h2load, urls[side], requests);
        if (side === 'sidecar') {
          sidecarOk += r.succeeded;
          cpuUs += stack.sidecarCpuUs() - before[0];
        }
        ctx.log(`${side}: ${Math.round(r.rps)} req/s (${r.succeeded} succeeded, ${r.failed} failed)`);
        return r.rps;
      };
      const res = await roundRobin(rounds, { direct: load('direct'), sidecar: load('sidecar') });
      const ratios = res.sidecar.map((v, i) => v / res.direct[i]);
      const manifest = await stack.seal('h2', 60_000);
      const stats = await stack.stats();
      // The warm-up's streams went through the sidecar too (recorded with the rounds).
      const expected = sidecarOk + 2_000;
      const ratio = median(ratios);
      return [
        {
          name: 'sidecar-h2-throughput',
          unit: 'req/s',
          value: round(median(res.sidecar), 1),
          baseline: round(median(res.direct), 1),
          ratio: round(ratio),
          target: '>= 0.5x direct, every stream recorded',
          met: ratio >= 0.5 && manifest.counts.pairs === expected,
          runs: ratios.map((r) => round(r)),
          notes: [
            `h2load -n ${requests} -c ${CLIENTS} -m ${STREAMS} (h2c, prior knowledge) per side, ${rounds} rounds, against nghttpd; ` +
              'median of per-round ratios',
            `recorded ${manifest.counts.pairs} pairs for ${expected} streams that succeeded through the sidecar ` +
              `(dropped ${stats.dropped}); sidecar CPU per stream ${round(cpuUs / Math.max(1, sidecarOk), 1)} us`,
            `forwarder CPU so far: ${round(processCpuUs(stack.forwarder.child.pid!) / Math.max(1, expected), 1)} us per pair`,
          ],
        },
      ];
    } finally {
      await stack.stop();
      await server.stop();
    }
  },
};

export const measures: Measure[] = [h2Throughput];
