/**
 * The generator against raw autocannon, back to back, on a small JSON node:http app running in
 * its own process: requests/s with the same connections (the generator replaying 10,000
 * distinct recorded requests, autocannon hammering one URL of the same shape, so the app does
 * the same work per request), then the rate each achieves when asked for a fixed rate. The
 * machine is shared: rounds alternate who goes first, and CPU per request is reported beside
 * req/s because it moves less with the machine's load. `node dist/bench/generator-vs-autocannon.js [--connections 50]
 * [--seconds 5] [--rounds 2] [--rates 500,2000]`
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';
import { runGenerator } from '../src/generator/index.js';
import { buildPlan } from '../src/generator/request-plan.js';
import type { RRPair } from '../src/model/traffic.js';

const { values } = parseArgs({
  options: {
    connections: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '6' },
    rates: { type: 'string', default: '500,2000' },
    requests: { type: 'string', default: '10000' },
  },
});
const CONNECTIONS = Number(values.connections);
const SECONDS = Number(values.seconds);
const ROUNDS = Number(values.rounds);
const RATES = values.rates.split(',').map(Number);
const DISTINCT = Number(values.requests);

const APP = `
const http = require('node:http');
const server = http.createServer((req, res) => {
  const body = JSON.stringify({ ok: true, path: req.url, at: 1710000000000 });
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;

async function startApp(): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['-e', APP], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolve) =>
    child.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim())),
  );
  return { url: `http://127.0.0.1:${port}`, child };
}

const autocannonBin = path.resolve(
  path.dirname(new URL(import.meta.url).pathname),
  '../../node_modules/autocannon/autocannon.js',
);

interface Measured {
  rps: number;
  total: number;
  /** CPU (user + system, all threads) the load generator spent per request: robust to a busy machine. */
  cpuUsPerRequest: number;
}

interface AutocannonJson {
  requests: { average: number; total: number };
  duration: number;
  errors: number;
}

/** Runs the autocannon CLI under /usr/bin/time to get its CPU time as well. */
async function autocannon(url: string, extra: string[] = []): Promise<Measured> {
  const { stdout, stderr } = await promisify(execFile)(
    '/usr/bin/time',
    [
      '-f',
      'cpu %U %S',
      process.execPath,
      autocannonBin,
      '-c',
      String(CONNECTIONS),
      '-d',
      String(SECONDS),
      '-j',
      ...extra,
      url,
    ],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  const r = JSON.parse(stdout) as AutocannonJson;
  const [, user, sys] = /cpu ([\d.]+) ([\d.]+)/.exec(stderr) ?? [];
  const cpuMs = (Number(user) + Number(sys)) * 1000;
  return {
    rps: r.requests.total / r.duration,
    total: r.requests.total,
    cpuUsPerRequest: (cpuMs * 1000) / r.requests.total,
  };
}

function recording(n: number): RRPair[] {
  const start = Date.parse('2024-03-10T12:00:00Z');
  return Array.from({ length: n }, (_, i) => ({
    id: `p${i}`,
    direction: 'inbound',
    service: 'bench',
    protocol: 'http/1.1',
    startedAt: new Date(start + i).toISOString(),
    durationMs: 1,
    request: {
      method: 'GET',
      scheme: 'http',
      host: 'bench',
      port: 80,
      path: `/items/${i}`,
      query: [['page', String(i % 7)]],
      headers: [
        ['accept', 'application/json'],
        ['user-agent', 'bench'],
      ],
    },
    tags: {},
  }));
}

async function generator(
  url: string,
  dir: string,
  load: { rate?: number },
): Promise<Measured & { sendRate: number }> {
  const recorded = recording(DISTINCT);
  // The plan is built once per run; its cost is not per request, so it is measured apart.
  const planCpu = process.cpuUsage();
  await buildPlan(recorded, { target: new URL(url) });
  const planUs = cpuUs(process.cpuUsage(planCpu));
  const cpu = process.cpuUsage();
  const s = await runGenerator({
    pairs: recorded,
    target: url,
    load: { connections: CONNECTIONS, duration: `${SECONDS}s`, ...load },
    observedPath: path.join(dir, `observed-${Date.now()}.ndjson.gz`),
  });
  const runUs = cpuUs(process.cpuUsage(cpu)) - planUs;
  return {
    rps: s.requests / (s.durationMs / 1000),
    total: s.requests,
    cpuUsPerRequest: runUs / s.requests,
    // Sends over the sending window: what a rate mode controls.
    sendRate: s.requests / Math.min(SECONDS, s.durationMs / 1000),
  };
}

const cpuUs = (u: NodeJS.CpuUsage) => u.user + u.system;
const fmt = (m: Measured) => `${m.rps.toFixed(0)} req/s, ${m.cpuUsPerRequest.toFixed(1)} us CPU/req`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const dir = await mkdtemp(path.join(tmpdir(), 'reprise-bench-gen-'));
const app = await startApp();
const oneUrl = `${app.url}/items/0?page=0`;
try {
  const ratios: number[] = [];
  const cpuRatios: number[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    // Alternate who goes first, so a drift in the machine's load does not favour one side.
    const first = round % 2 ? 'autocannon' : 'generator';
    const a = first === 'autocannon' ? await autocannon(oneUrl) : undefined;
    const g = await generator(app.url, dir, {});
    const a2 = a ?? (await autocannon(oneUrl));
    ratios.push(g.rps / a2.rps);
    cpuRatios.push(g.cpuUsPerRequest / a2.cpuUsPerRequest);
    console.log(
      `round ${round}: autocannon ${fmt(a2)}; generator ${fmt(g)}: ${(g.rps / a2.rps).toFixed(2)}x req/s, ${(g.cpuUsPerRequest / a2.cpuUsPerRequest).toFixed(2)}x CPU/req`,
    );
  }
  console.log(
    `median: ${median(ratios).toFixed(2)}x req/s, ${median(cpuRatios).toFixed(2)}x CPU per request`,
  );
  for (const rate of RATES) {
    const a = await autocannon(oneUrl, ['-R', String(rate)]);
    const g = await generator(app.url, dir, { rate });
    console.log(
      `rate ${rate}/s: autocannon -R achieved ${a.rps.toFixed(1)}/s (${((a.rps / rate - 1) * 100).toFixed(1)}%), generator ${g.sendRate.toFixed(1)}/s (${((g.sendRate / rate - 1) * 100).toFixed(1)}%)`,
    );
  }
} finally {
  app.child.kill();
  await rm(dir, { recursive: true, force: true });
}
