/**
 * A load client for HTTPS through an HTTP forward proxy (CONNECT), which autocannon cannot do.
 * It runs in its own process and is used for every side of a TLS comparison (direct, the
 * sidecar, mitmproxy) so all sides pay the same client cost: N keep-alive loops over one
 * https.Agent whose sockets are TLS over a CONNECT tunnel (or straight to the server without
 * --proxy), for a fixed time. Prints one JSON line:
 * `{"requests","errors","seconds","rps","cpuUsPerRequest","p50","p99"}` (latencies in ms).
 *
 * `node dist/bench/lib/tls-load.js --url https://127.0.0.1:P/ --ca FILE[,FILE] [--proxy http://H:P]
 *  [--connections 50] [--seconds 5]`
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    ca: { type: 'string', default: '' },
    proxy: { type: 'string' },
    connections: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '5' },
  },
});
if (!values.url) {
  process.stderr.write('tls-load: --url is required\n');
  process.exit(2);
}
const target = new URL(values.url);
const ca = values.ca
  .split(',')
  .filter(Boolean)
  .map((f) => readFileSync(f, 'utf8'));
const connections = Number(values.connections);
const seconds = Number(values.seconds);
/** A CONNECT answer head larger than this is not a proxy talking. */
const MAX_CONNECT_HEAD = 16 * 1024;
/** Latency samples kept (a reservoir would be fairer, but runs are short: the first N suffice). */
const MAX_SAMPLES = 1_000_000;

/** Opens each agent socket as CONNECT to the proxy, then TLS inside the tunnel. */
class TunnelAgent extends https.Agent {
  constructor(
    private readonly proxy: URL,
    opts: https.AgentOptions,
  ) {
    super(opts);
  }

  override createConnection(
    options: tls.ConnectionOptions & { host?: string; port?: number },
    cb: (err: Error | null, socket?: Duplex) => void,
  ): Duplex | undefined {
    const raw = net.connect({ host: this.proxy.hostname, port: Number(this.proxy.port) });
    raw.setNoDelay(true);
    const authority = `${options.host}:${options.port}`;
    let done = false;
    const fail = (err: Error) => {
      if (done) return;
      done = true;
      raw.destroy();
      cb(err);
    };
    raw.once('error', fail);
    raw.once('connect', () => raw.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`));
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) {
        if (head.length > MAX_CONNECT_HEAD) fail(new Error('CONNECT answer too large'));
        return;
      }
      raw.off('data', onData);
      raw.pause();
      const status = head.toString('latin1', 9, 12);
      if (status !== '200') return fail(new Error(`CONNECT answered ${status}`));
      if (end + 4 < head.length) raw.unshift(head.subarray(end + 4));
      raw.off('error', fail);
      done = true;
      const socket = tls.connect({
        ...options,
        socket: raw,
        servername: net.isIP(options.host ?? '') ? undefined : options.host,
        ALPNProtocols: ['http/1.1'],
      });
      cb(null, socket);
    };
    raw.on('data', onData);
    return undefined;
  }
}

const agentOptions: https.AgentOptions = { keepAlive: true, maxSockets: connections, ca };
const agent = values.proxy
  ? new TunnelAgent(new URL(values.proxy), agentOptions)
  : new https.Agent(agentOptions);

let requests = 0;
let errors = 0;
/** Why requests failed, by message (a few kinds at most). */
const errorKinds: Record<string, number> = {};
const failed = (why: string) => {
  errors++;
  if (Object.keys(errorKinds).length < 10 || why in errorKinds) errorKinds[why] = (errorKinds[why] ?? 0) + 1;
};
const samples: number[] = [];
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const deadline = t0 + seconds * 1000;

function once(): Promise<void> {
  const started = performance.now();
  return new Promise((resolve) => {
    const req = https.request(
      { host: target.hostname, port: target.port, path: target.pathname, agent, ca },
      (res: http.IncomingMessage) => {
        res.resume();
        res.once('end', () => {
          if (res.statusCode === 200) {
            requests++;
            if (samples.length < MAX_SAMPLES) samples.push(performance.now() - started);
          } else failed(`HTTP ${res.statusCode}`);
          resolve();
        });
        res.once('error', (err) => {
          failed(err.message);
          resolve();
        });
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.once('error', (err) => {
      failed(err.message);
      resolve();
    });
    req.end();
  });
}

async function loop(): Promise<void> {
  while (performance.now() < deadline) await once();
}

/** A request stuck where no timeout reaches it (a tunnel never answered) must not hold the run. */
const GRACE_MS = 15_000;
let watchdog: NodeJS.Timeout | undefined;
await Promise.race([
  Promise.all(Array.from({ length: connections }, loop)),
  new Promise((resolve) => (watchdog = setTimeout(resolve, seconds * 1000 + GRACE_MS))),
]);
clearTimeout(watchdog);
const elapsed = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
samples.sort((a, b) => a - b);
const pct = (p: number) =>
  samples.length ? samples[Math.min(samples.length - 1, Math.floor(samples.length * p))] : 0;
process.stdout.write(
  JSON.stringify({
    requests,
    errors,
    seconds: elapsed,
    rps: requests / elapsed,
    cpuUsPerRequest: requests ? (cpu.user + cpu.system) / requests : 0,
    p50: pct(0.5),
    p99: pct(0.99),
    errorKinds,
  }) + '\n',
);
agent.destroy();
process.exit(0);
