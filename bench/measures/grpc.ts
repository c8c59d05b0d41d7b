/**
 * gRPC replay measures, against the grpc-go helloworld greeter (SayHello) and ghz v0.93.0:
 * - generator-grpc: the generator replaying recorded unary calls (in this process, over one
 *   HTTP/2 connection, 100 streams) / ghz on the same call (-c 100 over one connection), calls/s
 *   answered OK by the same greeter; target >= 0.9x.
 * - responder-grpc: unary answers/s of the responder (in this process, answering a recorded
 *   SayHello) / the grpc-go greeter answering the same call, both loaded by ghz from its own
 *   process with the same settings. The issue sets no target: the ratio is reported.
 */
import { mkdtemp } from 'node:fs/promises';
import path from 'node:path';
import { runGenerator } from '../../src/generator/index.js';
import { startResponder } from '../../src/responder/index.js';
import { recordGrpc, sayHello } from '../../test/helpers/grpc-recording.js';
import { peerTools, runClient, startServer, type Server } from '../../test/protocols/peers.js';
import { alternate, median, round } from '../lib/common.js';
import type { BenchContext, Measure, MeasureResult } from '../lib/types.js';
import type { RRPair } from '../../src/model/traffic.js';

const STREAMS = 100;
const timing = (ctx: BenchContext) => (ctx.quick ? { rounds: 2, seconds: 2 } : { rounds: 4, seconds: 5 });

/** ghz's OK calls per second for SayHello at `addr` over one connection. */
async function ghz(addr: string, seconds: number): Promise<number> {
  const tools = peerTools();
  const out = await runClient(tools.ghz, [
    '--insecure',
    '--import-paths',
    tools.proto,
    '--proto',
    path.join(tools.proto, 'helloworld.proto'),
    '--call',
    'helloworld.Greeter.SayHello',
    '-d',
    '{"name":"world"}',
    '-c',
    String(STREAMS),
    '--connections',
    '1',
    '-z',
    `${seconds}s`,
    '-O',
    'json',
    addr,
  ]);
  const r = JSON.parse(out) as {
    rps: number;
    count: number;
    statusCodeDistribution?: Record<string, number>;
  };
  const ok = r.statusCodeDistribution?.OK ?? 0;
  // At the end of -z, ghz cuts the calls in flight (at most -c): they count as Unavailable.
  if (ok === 0 || r.count - ok > STREAMS) {
    throw new Error(`ghz at ${addr}: ${JSON.stringify(r.statusCodeDistribution)}`);
  }
  return ok / seconds;
}

/** A calls/s row from alternating rounds (a: Reprise, b: the baseline). */
function row(
  name: string,
  r: { ratios: number[]; a: number[]; b: number[] },
  target: string,
  met: boolean | null,
  notes: string[],
): MeasureResult {
  return {
    name,
    unit: 'calls/s',
    value: round(median(r.a), 0),
    baseline: round(median(r.b), 0),
    ratio: round(median(r.ratios)),
    target,
    met,
    runs: r.ratios.map((x) => round(x)),
    notes,
  };
}

async function recordedHello(server: Server, direction: RRPair['direction']): Promise<RRPair> {
  const { pairs } = await recordGrpc(server, sayHello(), { direction, service: 'greeter' });
  if (pairs.length !== 1) throw new Error(`recorded ${pairs.length} calls, expected 1`);
  return pairs[0];
}

async function generatorGrpc(ctx: BenchContext): Promise<MeasureResult[]> {
  const t = timing(ctx);
  const greeter = await startServer(peerTools().greeter_server, (p) => [`-port=${p}`]);
  try {
    const call = await recordedHello(greeter, 'inbound');
    // Distinct recorded calls, one pass each round's duration long.
    const pairs = Array.from({ length: 1000 }, (_, i) => ({ ...call, id: `hello-${i}` }));
    const dir = await mkdtemp(path.join(ctx.workDir, 'gen-'));
    let n = 0;
    const cpuUs: number[] = [];
    const generator = async () => {
      const cpu = process.cpuUsage();
      const s = await runGenerator({
        pairs,
        target: `http://127.0.0.1:${greeter.port}`,
        load: { connections: 1, duration: `${t.seconds}s` },
        observedPath: path.join(dir, `observed-${n++}.ndjson.gz`),
      });
      if (s.errors) throw new Error(`generator: ${JSON.stringify(s.errorsByKind)}`);
      const used = process.cpuUsage(cpu);
      cpuUs.push((used.user + used.system) / Math.max(1, s.responses));
      return s.responses / (s.durationMs / 1000);
    };
    await generator();
    cpuUs.length = 0;
    const r = await alternate(t.rounds, generator, () => ghz(`127.0.0.1:${greeter.port}`, t.seconds));
    const ratio = median(r.ratios);
    return [
      row('generator-grpc', r, '>= 0.9x ghz', ratio >= 0.9, [
        `grpc-go greeter SayHello; one HTTP/2 connection, ${STREAMS} concurrent streams (ghz -c ${STREAMS} --connections 1), ${t.seconds} s x ${t.rounds} alternating rounds`,
        `the generator decodes every answer and writes it to the observed file; its own HTTP/2 client (src/generator/h2/client-connection.ts, pre-encoded frames) spent ${round(median(cpuUs), 1)} us CPU per call (this process, plan included)`,
      ]),
    ];
  } finally {
    await greeter.stop();
  }
}

async function responderGrpc(ctx: BenchContext): Promise<MeasureResult[]> {
  const t = timing(ctx);
  const greeter = await startServer(peerTools().greeter_server, (p) => [`-port=${p}`]);
  const responder = await startResponder({ pairs: [await recordedHello(greeter, 'outbound')], config: {} });
  try {
    const mine = `127.0.0.1:${responder.port}`;
    const theirs = `127.0.0.1:${greeter.port}`;
    // The responder must answer what the greeter answers.
    if ((await sayHello()(mine)) !== (await sayHello()(theirs)))
      throw new Error('the responder answered otherwise');
    await ghz(mine, 2);
    const r = await alternate(
      t.rounds,
      () => ghz(mine, t.seconds),
      () => ghz(theirs, t.seconds),
    );
    const { match, noMatch } = responder.stats();
    return [
      row('responder-grpc', r, 'reported (no target in issue 15)', null, [
        `ghz -c ${STREAMS} --connections 1 SayHello, ${t.seconds} s x ${t.rounds} alternating rounds; the responder answers from its recording, the grpc-go greeter runs its handler`,
        `responder: ${match} calls matched, ${noMatch} not (calls ghz cut at the end of a round arrive without their message)`,
      ]),
    ];
  } finally {
    await responder.close();
    await greeter.stop();
  }
}

export const measures: Measure[] = [
  { names: ['generator-grpc'], budgetS: 300, run: generatorGrpc },
  { names: ['responder-grpc'], budgetS: 300, run: responderGrpc },
];
