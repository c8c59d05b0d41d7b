/**
 * What every measure needs: a small JSON app in its own process, autocannon run from its own
 * process (so the load does not share an event loop with what is measured), child processes
 * that print a ready line, peak RSS from /proc, and medians.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { once } from 'node:events';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ensureGoJsonApp } from './peers.js';

const require = createRequire(import.meta.url);
export const AUTOCANNON_BIN = require.resolve('autocannon/autocannon.js');
/** The compiled tree (dist/): `distPath('workers/sidecar.js')`. */
export const distPath = (rel: string) => fileURLToPath(new URL(`../../${rel}`, import.meta.url));

/**
 * Every child started through startReady/startOnPort that has not exited yet: the runner stops
 * what a failed or timed-out measure left behind.
 */
export const liveChildren = new Set<ChildProcess>();

function track(child: ChildProcess): void {
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
}

/** Stops every live child (SIGTERM, then SIGKILL after 5 s). */
export async function stopAllChildren(): Promise<void> {
  await Promise.all([...liveChildren].map((c) => stopProcess(c)));
}

/**
 * A keep-alive node:http app answering a small JSON body on every path. It counts the requests
 * it answered (`GET /__bench/count`), for load tools that do not report their own (GoReplay),
 * and answers after `DELAY_MS` when set (a slow target).
 */
export const JSON_APP_SOURCE = `
const http = require('node:http');
const delayMs = Number(process.env.DELAY_MS || 0);
let count = 0;
const server = http.createServer((req, res) => {
  if (req.url === '/__bench/count') return res.end(String(count));
  count++;
  const body = JSON.stringify({ ok: true, path: req.url, at: 1710000000000 });
  const send = () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
  if (delayMs > 0) setTimeout(send, delayMs);
  else send();
});
server.keepAliveTimeout = 60000;
server.listen(Number(process.env.PORT || 0), '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));
`;

export interface Started {
  child: ChildProcess;
  /** The first stdout line that parsed as JSON. */
  ready: Record<string, unknown>;
  stop(): Promise<void>;
}

/**
 * Starts a process and waits for its first JSON line on stdout (Reprise's workers and the
 * bench apps print one when listening). Fails with the process's stderr if it exits first.
 */
/** `command` with piped output, in this process's environment plus `env`, stopped with the suite. */
function spawnTracked(
  command: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string },
): ChildProcess {
  const child = spawn(command, args, {
    env: { ...process.env, ...opts.env },
    cwd: opts.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  track(child);
  return child;
}

export async function startReady(
  command: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<Started> {
  const child = spawnTracked(command, args, opts);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(
      () => reject(new Error(`${command} not ready in ${opts.timeoutMs ?? 30_000} ms: ${stderr}`)),
      opts.timeoutMs ?? 30_000,
    );
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      for (const line of buf.split('\n').slice(0, -1)) {
        try {
          const parsed = JSON.parse(line) as unknown;
          if (parsed && typeof parsed === 'object') {
            clearTimeout(timer);
            resolve(parsed as Record<string, unknown>);
            return;
          }
        } catch {
          // not the ready line
        }
      }
      buf = buf.slice(buf.lastIndexOf('\n') + 1);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${command} exited with ${code} before it was ready: ${stderr}`));
    });
  });
  child.stdout!.resume();
  return { child, ready, stop: () => stopProcess(child) };
}

export async function stopProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** An ephemeral loopback port that was free a moment ago (for tools that want a port number). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Resolves once `port` accepts a connection; rejects at the deadline. */
export async function waitForPort(port: number, timeoutMs: number, host = '127.0.0.1'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ port, host }, () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listened on ${host}:${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Starts a tool that prints no JSON ready line (mitmdump, GoReplay, java) and waits until it
 * listens on `port`; fails with its output if it exits first. `ready` is `{port}`.
 */
export async function startOnPort(
  command: string,
  args: string[],
  opts: { port: number; env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number },
): Promise<Started> {
  const child = spawnTracked(command, args, opts);
  let output = '';
  const keep = (d: Buffer) => (output = (output + d.toString()).slice(-4000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<never>((_, reject) => {
    child.once('exit', (code) => reject(new Error(`${command} exited with ${code}: ${output}`)));
    // A binary that cannot start (missing, or its interpreter is): the row fails, not the run.
    child.once('error', (err) => reject(new Error(`${command} did not start: ${err.message}`)));
  });
  exited.catch(() => undefined);
  try {
    await Promise.race([waitForPort(opts.port, opts.timeoutMs ?? 30_000), exited]);
  } catch (err) {
    await stopProcess(child);
    throw err;
  }
  return { child, ready: { port: opts.port }, stop: () => stopProcess(child) };
}

/** CPU time (user + system) a live process has used so far, in microseconds (from /proc). */
export function processCpuUs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of stat (11 and 12 after the command name).
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS;
  } catch {
    return NaN;
  }
}
const CLOCK_TICKS = 100;

/** The JSON app in its own process; `url` has no trailing slash. */
export async function startJsonApp(
  opts: { delayMs?: number } = {},
): Promise<Started & { url: string; port: number }> {
  const env = opts.delayMs ? { DELAY_MS: String(opts.delayMs) } : undefined;
  return withLoopbackUrl(await startReady(process.execPath, ['-e', JSON_APP_SOURCE], { env }));
}

/** A started app with the port it printed and its loopback URL. */
function withLoopbackUrl(s: Started): Started & { url: string; port: number } {
  const port = Number(s.ready.port);
  return { ...s, port, url: `http://127.0.0.1:${port}` };
}

/**
 * The same JSON app in Go (bench/apps/json-app.go), on every core at a fraction of the Node app's
 * CPU per request: for the rows that compare load generators, where the app must not be what
 * limits the req/s.
 */
export async function startGoJsonApp(
  log?: (m: string) => void,
): Promise<Started & { url: string; port: number }> {
  const tool = await ensureGoJsonApp(log);
  if (!tool.ok) throw new Error(tool.reason);
  return withLoopbackUrl(await startReady(tool.bin, [], { env: { PORT: '0' } }));
}

/** Requests the JSON app has answered so far. */
export async function appCount(url: string): Promise<number> {
  const res = await fetch(`${url}/__bench/count`);
  return Number(await res.text());
}

export interface LoadResult {
  /** Completed 2xx-5xx responses per second over the run. */
  rps: number;
  /**
   * autocannon's mean of its per-second samples: leaves out its own start-up, which with
   * `--har` (a request list built per connection) takes a second or more of the run's duration.
   */
  perSecond: number;
  /** Responses counted by autocannon. */
  total: number;
  errors: number;
  non2xx: number;
  latency: { p50: number; p90: number; p99: number; avg: number; max: number };
  /** CPU (user+system) autocannon itself spent per response, in microseconds. */
  cpuUsPerRequest: number;
}

interface AutocannonJson {
  requests: { total: number; average: number };
  latency: { p50: number; p90: number; p99: number; average: number; max: number };
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  '2xx': number;
}

/**
 * autocannon's CLI against `url` from its own process. `rate` = overall req/s (-R);
 * `extra` passes raw flags (e.g. `['-m', 'POST']`).
 */
export async function autocannon(
  url: string,
  opts: { connections?: number; seconds: number; rate?: number; amount?: number; extra?: string[] },
): Promise<LoadResult> {
  const args = [
    '-f',
    'cpu %U %S',
    process.execPath,
    AUTOCANNON_BIN,
    '-c',
    String(opts.connections ?? 50),
    // A fixed number of requests (-a) all complete before autocannon exits: counts can be exact.
    ...(opts.amount ? ['-a', String(opts.amount)] : ['-d', String(opts.seconds)]),
    '-j',
    '--renderStatusCodes',
    ...(opts.rate ? ['-R', String(opts.rate)] : []),
    ...(opts.extra ?? []),
    url,
  ];
  const { stdout, stderr } = await promisify(execFile)('/usr/bin/time', args, {
    maxBuffer: 64 * 1024 * 1024,
  });
  const r = JSON.parse(stdout.slice(stdout.indexOf('{'))) as AutocannonJson;
  const [, user, sys] = /cpu ([\d.]+) ([\d.]+)/.exec(stderr) ?? [];
  const total = r.requests.total;
  return {
    rps: total / r.duration,
    perSecond: r.requests.average,
    total,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
    latency: {
      p50: r.latency.p50,
      p90: r.latency.p90,
      p99: r.latency.p99,
      avg: r.latency.average,
      max: r.latency.max,
    },
    cpuUsPerRequest: total ? ((Number(user) + Number(sys)) * 1e6) / total : 0,
  };
}

/** Peak resident set (VmHWM) of a live process, in bytes; undefined once it has exited. */
export function peakRss(pid: number): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export const round = (x: number, digits = 3) => Number(x.toFixed(digits));

/**
 * Rounds of A vs B, alternating which goes first so drift in the machine's load favours
 * neither; returns the per-round ratios a/b and both sides' values.
 */
export async function alternate(
  rounds: number,
  a: () => Promise<number>,
  b: () => Promise<number>,
): Promise<{ ratios: number[]; a: number[]; b: number[] }> {
  const out = { ratios: [] as number[], a: [] as number[], b: [] as number[] };
  for (let i = 0; i < rounds; i++) {
    let va: number, vb: number;
    if (i % 2 === 0) {
      va = await a();
      vb = await b();
    } else {
      vb = await b();
      va = await a();
    }
    out.a.push(va);
    out.b.push(vb);
    out.ratios.push(va / vb);
  }
  return out;
}

/**
 * Runs a process to completion and returns the last line of its stdout that parsed as a JSON
 * object (bench helpers print their result that way); fails with its stderr on a non-zero exit.
 */
export async function runJson(
  command: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<Record<string, unknown>> {
  const { stdout } = await promisify(execFile)(command, args, {
    env: { ...process.env, ...opts.env },
    timeout: opts.timeoutMs ?? 300_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  for (const line of stdout.trimEnd().split('\n').reverse()) {
    try {
      const parsed = JSON.parse(line) as unknown;
      if (parsed && typeof parsed === 'object') return parsed as Record<string, unknown>;
    } catch {
      // not a result line
    }
  }
  throw new Error(`${command} ${args.join(' ')} printed no JSON line: ${stdout.slice(-500)}`);
}

/** POSTs JSON (or nothing) and returns the parsed answer; a non-2xx status throws with the body. */
export async function postJson<T = unknown>(url: string, body?: unknown): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`POST ${url}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/**
 * Rounds over several sides (direct, the sidecar, floors...), reversing the order every other
 * round so the machine's drift favours none; returns each side's values, round by round.
 */
export async function roundRobin<T>(
  rounds: number,
  sides: Record<string, () => Promise<T>>,
): Promise<Record<string, T[]>> {
  const names = Object.keys(sides);
  const out = Object.fromEntries(names.map((n) => [n, [] as T[]])) as Record<string, T[]>;
  for (let i = 0; i < rounds; i++) {
    for (const n of i % 2 === 0 ? names : [...names].reverse()) out[n].push(await sides[n]());
  }
  return out;
}
