/**
 * What decoding HTTP/2 and gRPC costs the forwarder (a measurement for design, not a bench row):
 * captures an h2load run against nghttpd and a ghz run against the grpc-go greeter through a
 * teeing relay, then decodes the captured chunks as the forwarder would, several times, and
 * prints MB/s and streams/s for the tap slicer (the sidecar's part), the HTTP/2 decoder, and the
 * decoder plus gRPC message decoding.
 * `node dist/bench/protocols/h2-decode.js [--streams N]`
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { grpcCall } from '../../src/protocols/grpc/call.js';
import { H2ConnectionDecoder } from '../../src/protocols/http2/connection.js';
import { H2TapSlicer } from '../../src/protocols/http2/tap.js';
import { TeeRelay, type TeeEvent, peerTools, runClient, startServer } from '../../test/protocols/peers.js';

const { values } = parseArgs({ options: { streams: { type: 'string', default: '20000' } } });
const streams = Number(values.streams);
const tools = peerTools();

async function captured(port: number, client: (addr: string) => Promise<string>): Promise<TeeEvent[][]> {
  const relay = await TeeRelay.start(port);
  await client(`127.0.0.1:${relay.port}`);
  await relay.idle();
  await relay.stop();
  return relay.connections;
}

function bytesOf(conns: TeeEvent[][]): number {
  return conns.reduce((n, c) => n + c.reduce((m, e) => m + e.bytes.length, 0), 0);
}

/** Best of `rounds` timings of `work` over the capture; returns ms. */
function time(rounds: number, work: () => void): number {
  let best = Infinity;
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    work();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

function decodeAll(conns: TeeEvent[][], grpc: boolean): number {
  let n = 0;
  for (const events of conns) {
    const dec = new H2ConnectionDecoder({
      onExchange: (ex) => {
        n++;
        if (grpc && !grpcCall(ex)) throw new Error('not a gRPC call');
      },
    });
    for (const e of events) dec.push(e.dir, e.bytes, e.t);
    dec.end(0);
    if (dec.stats.errors) throw new Error('decode error');
  }
  return n;
}

function tapAll(conns: TeeEvent[][]): void {
  for (const events of conns) {
    const sink = { bytes: () => {}, gap: () => {} };
    const taps = [
      new H2TapSlicer(sink, 65536, { preface: true }),
      new H2TapSlicer(sink, 65536, { preface: false }),
    ];
    for (const e of events) taps[e.dir].push(e.bytes);
  }
}

function report(name: string, conns: TeeEvent[][], grpc: boolean): void {
  const mb = bytesOf(conns) / 1e6;
  let exchanges = 0;
  const tap = time(5, () => tapAll(conns));
  const dec = time(5, () => (exchanges = decodeAll(conns, false)));
  const full = grpc ? time(5, () => decodeAll(conns, true)) : undefined;
  const line = (what: string, ms: number) =>
    `${name.padEnd(28)} ${what.padEnd(22)} ${(mb / (ms / 1000)).toFixed(1).padStart(7)} MB/s ${Math.round(
      exchanges / (ms / 1000),
    )
      .toString()
      .padStart(8)} streams/s`;
  process.stdout.write(`${name}: ${exchanges} streams, ${mb.toFixed(1)} MB on ${conns.length} connections\n`);
  process.stdout.write(`${line('tap slicer', tap)}\n${line('HTTP/2 decode', dec)}\n`);
  if (full !== undefined) process.stdout.write(`${line('HTTP/2 + gRPC decode', full)}\n`);
}

const doc = mkdtempSync(path.join(os.tmpdir(), 'reprise-h2-bench-'));
writeFileSync(
  path.join(doc, 'small.json'),
  JSON.stringify({ ok: true, items: [1, 2, 3], name: 'x'.repeat(200) }),
);
writeFileSync(path.join(doc, 'page.html'), 'y'.repeat(16 * 1024));
const nghttpd = await startServer(tools.nghttpd, (port) => ['--no-tls', '-d', doc, String(port)]);
const greeter = await startServer(tools.greeter_server, (port) => [`-port=${port}`]);
try {
  for (const file of ['small.json', 'page.html']) {
    const conns = await captured(nghttpd.port, (addr) =>
      runClient(tools.h2load, ['-n', String(streams), '-c', '4', '-m', '10', `http://${addr}/${file}`]),
    );
    report(`h2load ${file}`, conns, false);
  }
  const proto = ['--insecure', '--import-paths', tools.proto, '--proto', 'helloworld.proto'];
  const call = [
    '--call',
    'helloworld.Greeter.SayHello',
    '-d',
    '{"name":"world"}',
    '-n',
    String(streams),
    '-c',
    '10',
  ];
  const conns = await captured(greeter.port, (addr) => runClient(tools.ghz, [...proto, ...call, addr]));
  report('ghz SayHello', conns, true);
} finally {
  await greeter.stop();
  await nghttpd.stop();
  rmSync(doc, { recursive: true, force: true });
}
