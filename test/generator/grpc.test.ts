/**
 * The generator replays recorded gRPC calls against the real grpc-go example servers: unary,
 * server-streaming and bidi calls recorded through a tee (grpcurl), replayed over HTTP/2, and
 * every observed line holds the server's answer decoded like the recording (status, trailers,
 * messages). Passes repeat the calls; a server allowing 2 streams (nghttpd) refuses none; a
 * target that refuses connections gives errors by kind.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runGenerator } from '../../src/generator/index.js';
import type { ObservedExchange } from '../../src/model/replay.js';
import type { RRPair } from '../../src/model/traffic.js';
import { grpcOf } from '../../src/protocols/grpc/recorded-pair.js';
import { grpcurl, recordGrpc } from '../helpers/grpc-recording.js';
import { type Server, freePort, peerTools, startServer } from '../protocols/peers.js';
import { observed } from './helpers.js';

const tools = peerTools();
const inbound = { direction: 'inbound' as const, service: 'routes' };
let route: Server;
let greeter: Server;
let dir: string;
const recorded: RRPair[] = [];

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'reprise-gen-grpc-'));
  route = await startServer(tools.route_guide_server, (p) => [`-port=${p}`]);
  greeter = await startServer(tools.greeter_server, (p) => [`-port=${p}`]);
  const area =
    '{"lo":{"latitude":400000000,"longitude":-750000000},"hi":{"latitude":410000000,"longitude":-740000000}}';
  const note = (m: string) => `{"location":{"latitude":1,"longitude":1},"message":"${m}"}`;
  for (const client of [
    grpcurl(
      'route_guide.proto',
      'routeguide.RouteGuide/GetFeature',
      '{"latitude":409146138,"longitude":-746188906}',
    ),
    grpcurl('route_guide.proto', 'routeguide.RouteGuide/ListFeatures', area),
    grpcurl('route_guide.proto', 'routeguide.RouteGuide/RouteChat', `${note('a')} ${note('b')}`),
  ]) {
    recorded.push(...(await recordGrpc(route, client, inbound)).pairs);
  }
});

after(async () => {
  await route?.stop();
  await greeter?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function replay(
  target: string,
  load: Record<string, unknown>,
  name: string,
): Promise<ObservedExchange[]> {
  const observedPath = path.join(dir, `${name}.ndjson.gz`);
  const summary = await runGenerator({ pairs: recorded, target, load, observedPath });
  const lines = await observed(observedPath);
  assert.equal(lines.length, summary.requests);
  return lines;
}

describe('generator: gRPC recordings over HTTP/2', () => {
  it('replays unary and streaming calls; the observed answers decode like the recording', async () => {
    assert.equal(recorded.length, 3);
    const lines = await replay(`http://127.0.0.1:${route.port}`, { connections: 2 }, 'once');
    assert.equal(lines.length, 3);
    for (const pair of recorded) {
      const ob = lines.find((l) => l.pairId === pair.id);
      assert.ok(ob?.response, `${pair.request.path}: ${ob?.error}`);
      const want = grpcOf(pair)!;
      const got = ob.response.grpc as { status: number; response: { fields: unknown }[] };
      assert.equal(got.status, 0);
      assert.deepEqual(
        ob.response.trailers?.find(([n]) => n === 'grpc-status'),
        ['grpc-status', '0'],
      );
      // RouteChat's server keeps every note it was sent: a replay hears the recorded ones and more.
      const answers = got.response.map((m) => m.fields);
      const expected = want.response.map((m) => m.fields);
      if (pair.request.path.endsWith('/RouteChat')) assert.ok(answers.length > expected.length);
      else assert.deepEqual(answers, expected, pair.request.path);
      assert.equal(ob.request.url, `http://127.0.0.1:${route.port}${pair.request.path}`);
    }
  });

  it('replays passes over multiplexed streams', async () => {
    const lines = await replay(`http://127.0.0.1:${route.port}`, { connections: 1, passes: 4 }, 'passes');
    assert.equal(lines.length, 12);
    assert.deepEqual([...new Set(lines.map((l) => l.pass))].sort(), [0, 1, 2, 3]);
    assert.ok(lines.every((l) => (l.response?.grpc as { status?: number } | undefined)?.status === 0));
  });

  it('observes a server without the service as its gRPC status', async () => {
    const lines = await replay(`http://127.0.0.1:${greeter.port}`, {}, 'unimplemented');
    assert.equal(lines.length, 3);
    for (const l of lines) assert.equal((l.response?.grpc as { status?: number }).status, 12);
  });

  it('waits for the server SETTINGS before more than one stream: a 2-stream nghttpd refuses none', async () => {
    const h2 = await startServer(tools.nghttpd, (p) => ['--no-tls', '-m', '2', '-d', dir, String(p)]);
    try {
      const lines = await replay(`http://127.0.0.1:${h2.port}`, { connections: 1, passes: 4 }, 'two-streams');
      assert.equal(lines.length, 12);
      // nghttpd serves files, not gRPC: every call gets its 404, none a REFUSED_STREAM.
      assert.deepEqual(
        lines.map((l) => l.response?.status ?? l.error),
        Array.from({ length: 12 }, () => 404),
      );
    } finally {
      await h2.stop();
    }
  });

  it('counts refused connections as errors by kind', async () => {
    const port = await freePort();
    const observedPath = path.join(dir, 'refused.ndjson.gz');
    const summary = await runGenerator({ pairs: recorded, target: `http://127.0.0.1:${port}`, observedPath });
    assert.equal(summary.requests, 3);
    assert.equal(summary.responses, 0);
    assert.deepEqual(summary.errorsByKind, { ECONNREFUSED: 3 });
  });
});
