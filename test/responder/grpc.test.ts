/**
 * The responder answers gRPC from format-2 recordings, to real clients: calls of the grpc-go
 * examples are recorded through a tee (grpcurl and the route_guide client against the real
 * servers), the servers are stopped, and the same clients get the recorded answers from the
 * responder: unary, server, client and bidi streaming, over h2c and over TLS (ALPN h2, the
 * responder's CA). What was not recorded gets a gRPC status that says so, and is counted.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RRPair } from '../../src/model/traffic.js';
import { grpcOf } from '../../src/protocols/grpc/recorded-pair.js';
import { startResponder, type Responder } from '../../src/responder/index.js';
import { grpcurl, recordGrpc, sayHello } from '../helpers/grpc-recording.js';
import { peerTools, startServer } from '../protocols/peers.js';

const tools = peerTools();
const outbound = { direction: 'outbound' as const, service: 'checkout' };
const recordedOutput: Record<string, string> = {};
const pairs: RRPair[] = [];
let responder: Responder;
let caDir: string;

const hello = (extra?: string[]) => sayHello('world', extra);
const listFeatures = grpcurl(
  'route_guide.proto',
  'routeguide.RouteGuide/ListFeatures',
  '{"lo":{"latitude":400000000,"longitude":-750000000},"hi":{"latitude":410000000,"longitude":-740000000}}',
);
const recordRoute = grpcurl(
  'route_guide.proto',
  'routeguide.RouteGuide/RecordRoute',
  '{"latitude":407838351,"longitude":-746143763} {"latitude":408122808,"longitude":-743999179}',
);
const routeChat = grpcurl(
  'route_guide.proto',
  'routeguide.RouteGuide/RouteChat',
  '{"location":{"latitude":1,"longitude":1},"message":"a"} {"location":{"latitude":1,"longitude":1},"message":"b"}',
);

/** The route_guide client logs to stderr; its lines without their timestamps, and its exit code. */
function routeGuideClient(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ code: number; lines: string[] }> {
  return new Promise((resolve) => {
    execFile(tools.route_guide_client, args, { env, timeout: 60_000 }, (err, _out, stderr) =>
      resolve({
        code: err ? Number((err as { code?: number }).code ?? 1) : 0,
        lines: stderr.split('\n').map((l) => l.replace(/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d /, '')),
      }),
    );
  });
}

before(async () => {
  const greeter = await startServer(tools.greeter_server, (p) => [`-port=${p}`]);
  const route = await startServer(tools.route_guide_server, (p) => [`-port=${p}`]);
  try {
    const runs: [string, typeof greeter, (addr: string) => Promise<string>][] = [
      ['hello', greeter, hello()],
      ['listFeatures', route, listFeatures],
      ['recordRoute', route, recordRoute],
      ['routeChat', route, routeChat],
      ['client', route, async (addr) => (await routeGuideClient(['-addr', addr])).lines.join('\n')],
    ];
    for (const [name, server, client] of runs) {
      const rec = await recordGrpc(server, client, outbound);
      recordedOutput[name] = rec.output;
      pairs.push(...rec.pairs);
    }
  } finally {
    await greeter.stop();
    await route.stop();
  }
  caDir = await mkdtemp(path.join(os.tmpdir(), 'reprise-grpc-ca-'));
  responder = await startResponder({ pairs, caDir });
});

after(async () => {
  await responder?.close();
  if (caDir) await rm(caDir, { recursive: true, force: true });
});

const addr = () => `127.0.0.1:${responder.port}`;

describe('responder: gRPC from format-2 recordings', () => {
  it('recorded every call as a gRPC pair', () => {
    const methods = pairs.map((p) => grpcOf(p)!.method);
    for (const m of ['SayHello', 'GetFeature', 'ListFeatures', 'RecordRoute', 'RouteChat'])
      assert.ok(methods.includes(m), m);
    assert.match(recordedOutput.hello, /"message": "Hello world"/);
  });

  it('answers unary, server-, client- and bidi-streaming calls as recorded (h2c)', async () => {
    const before = responder.stats().match;
    assert.equal(await hello()(addr()), recordedOutput.hello);
    assert.equal(await listFeatures(addr()), recordedOutput.listFeatures);
    assert.equal(await recordRoute(addr()), recordedOutput.recordRoute);
    assert.equal(await routeChat(addr()), recordedOutput.routeChat);
    assert.equal(responder.stats().match - before, 4);
  });

  it('answers a grpc-go client; a call recorded with other messages is NOT_FOUND, named and counted', async () => {
    const live = await routeGuideClient(['-addr', addr()]);
    const recorded = recordedOutput.client.split('\n');
    // GetFeature twice and ListFeatures are recorded; RecordRoute sends random points.
    const upTo = recorded.findIndex((l) => l.startsWith('Traversing'));
    assert.ok(upTo > 10);
    assert.deepEqual(live.lines.slice(0, upTo), recorded.slice(0, upTo));
    assert.notEqual(live.code, 0);
    const failure = live.lines.join('\n');
    assert.match(failure, /NotFound/);
    assert.match(
      failure,
      /no recorded call on \/routeguide.RouteGuide\/RecordRoute with these request messages/,
    );
    const miss = responder.stats().misses.find((m) => m.url.endsWith('/routeguide.RouteGuide/RecordRoute'));
    assert.ok(miss, 'the miss is listed');
    assert.ok(miss.nearest && miss.nearest.length > 0);
  });

  it('answers UNIMPLEMENTED for a path nothing was recorded on', async () => {
    const misses = responder.stats().noMatch;
    const out = await grpcurl(
      'echo.proto',
      'grpc.examples.echo.Echo/UnaryEcho',
      '{"message":"x"}',
    )(addr()).catch((err: Error) => err.message);
    assert.match(out, /Unimplemented/);
    assert.match(out, /reprise responder: no recorded call on \/grpc.examples.echo.Echo\/UnaryEcho/);
    assert.equal(responder.stats().noMatch, misses + 1);
  });

  it('answers a grpc-go client through a CONNECT tunnel it decrypts (HTTPS_PROXY, TLS, ALPN h2)', async () => {
    const env = { ...process.env, HTTPS_PROXY: `http://${addr()}`, NO_PROXY: '' };
    const args = ['-addr', 'routes.test:443', '-tls', '-ca_file', responder.caCertPath!];
    const live = await routeGuideClient([...args, '-server_host_override', 'routes.test'], env);
    const recorded = recordedOutput.client.split('\n');
    // The first GetFeature and its recorded answer.
    assert.deepEqual(live.lines.slice(0, 2), recorded.slice(0, 2));
    assert.match(recorded[1], /Berkshire Valley/);
  });

  it('answers over TLS with ALPN h2, with a certificate from its CA for the name asked', async () => {
    const tls = ['-cacert', responder.caCertPath!, '-servername', 'greeter.test'];
    assert.equal(await hello(tls)(addr()), recordedOutput.hello);
  });
});
