/**
 * gRPC decoding on real traffic: the grpc-go example servers and clients and grpcurl, through
 * a relay that tees both directions into the HTTP/2 decoder; the decoded calls must match what
 * the clients sent and printed. Every real message also proves decode -> encode is exact.
 */
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { type GrpcCall, grpcCall } from '../../src/protocols/grpc/call.js';
import { readGrpcFrames } from '../../src/protocols/grpc/messages.js';
import { type ProtoField, decodeMessage, encodeMessage } from '../../src/protocols/grpc/protobuf.js';
import { RRPairV2, h2PairParts } from '../../src/protocols/grpc/recorded-format.js';
import { fetchDescriptors } from '../../src/protocols/grpc/reflection.js';
import { header } from '../../src/protocols/http2/exchange.js';
import { decodeEvents } from './decode.js';
import { type Server, TeeRelay, peerTools, runClient, startServer } from './peers.js';

const tools = peerTools();
const servers: Record<'greeter' | 'route' | 'reflection' | 'compression', Server> = {} as never;
const relays: TeeRelay[] = [];
/** Every message body seen, for the exactness property. */
const corpus: Buffer[] = [];

before(async () => {
  const port = (p: number) => [`-port=${p}`];
  servers.greeter = await startServer(tools.greeter_server, port);
  servers.route = await startServer(tools.route_guide_server, port);
  servers.reflection = await startServer(tools.reflection_server, port);
  servers.compression = await startServer(tools.compression_server, port);
});

after(async () => {
  for (const r of relays) await r.stop();
  for (const s of Object.values(servers)) await s?.stop();
});

/** Runs a client against a fresh relay to `server`; returns its output and the decoded calls. */
async function capture(server: Server, client: (addr: string) => Promise<string>) {
  const relay = await TeeRelay.start(server.port);
  relays.push(relay);
  const output = await client(`127.0.0.1:${relay.port}`).catch((err: Error) => err.message);
  await relay.idle();
  const calls: GrpcCall[] = [];
  const pairs: RRPairV2[] = [];
  for (const conn of relay.connections) {
    const d = decodeEvents(conn, { split: 'random' });
    assert.deepEqual(d.errors, []);
    for (const ex of d.exchanges) {
      for (const m of [ex.request, ex.response]) {
        if (!m) continue;
        for (const f of readGrpcFrames(m.body, header(m.headers, 'grpc-encoding'), 1 << 24).frames)
          corpus.push(f.data);
      }
      const call = grpcCall(ex);
      if (!call) continue;
      calls.push(call);
      // Each recorded call fits the proposed snapshot form.
      const p = h2PairParts(ex, call);
      const pair = RRPairV2.parse({
        id: `p${calls.length}`,
        direction: 'inbound',
        service: 'svc',
        protocol: 'h2',
        startedAt: new Date().toISOString(),
        durationMs: p.durationMs,
        request: {
          method: p.method,
          scheme: 'http',
          host: '127.0.0.1',
          port: 1,
          path: p.target,
          query: [],
          ...p.request,
        },
        ...(p.response && { response: p.response }),
        h2: p.h2,
        grpc: p.grpc,
      });
      pairs.push(pair);
    }
  }
  return { output, calls, pairs };
}

function grpcurl(proto: string | undefined, data: string, method: string) {
  const schema = proto ? ['-import-path', tools.proto, '-proto', proto] : [];
  return (addr: string) => runClient(tools.grpcurl, ['-plaintext', ...schema, '-d', data, addr, method]);
}

/** grpcurl prints one pretty JSON object per message. */
function printed(output: string): unknown[] {
  return output
    .split(/^}\n/m)
    .filter((s) => s.trim())
    .map((s) => JSON.parse(`${s}}`));
}

/** Field numbers -> JSON names of route_guide.proto, for comparing with grpcurl's output. */
const ROUTE: Record<string, Record<number, [string, string?]>> = {
  Point: { 1: ['latitude', 'int32'], 2: ['longitude', 'int32'] },
  Feature: { 1: ['name'], 2: ['location', 'Point'] },
  Rectangle: { 1: ['lo', 'Point'], 2: ['hi', 'Point'] },
  RouteNote: { 1: ['location', 'Point'], 2: ['message'] },
  RouteSummary: {
    1: ['pointCount', 'int32'],
    2: ['featureCount', 'int32'],
    3: ['distance', 'int32'],
    4: ['elapsedTime', 'int32'],
  },
};

function json(fields: ProtoField[] | undefined, type: string): Record<string, unknown> {
  assert.ok(fields, `a decoded ${type}`);
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    const [name, kind] = ROUTE[type][f.n];
    if (kind === 'int32') out[name] = Number(BigInt.asIntN(32, BigInt(f.v as number | string)));
    else if (kind) out[name] = json(f.v as ProtoField[], kind);
    else out[name] = f.v;
  }
  return out;
}

const only = (calls: GrpcCall[], method: string) => {
  const c = calls.filter((x) => x.method === method);
  assert.equal(c.length, 1, `one ${method} call`);
  return c[0];
};

/** A route_guide call of `sent` messages: the decoded requests are them, the responses what grpcurl printed. */
async function routeCall(method: string, sent: object[], requestType: string, responseType: string) {
  const data = sent.map((m) => JSON.stringify(m)).join(' ');
  const { output, calls } = await capture(
    servers.route,
    grpcurl('route_guide.proto', data, `routeguide.RouteGuide/${method}`),
  );
  const call = only(calls, method);
  assert.deepEqual(
    call.request.map((m) => json(m.fields, requestType)),
    sent,
  );
  assert.deepEqual(
    call.response.map((m) => json(m.fields, responseType)),
    printed(output),
  );
  return call;
}

describe('gRPC decoding of real grpc-go traffic', () => {
  it('decodes a unary call: service, method, messages, status from the trailers', async () => {
    const { output, calls, pairs } = await capture(
      servers.greeter,
      grpcurl('helloworld.proto', '{"name":"world"}', 'helloworld.Greeter/SayHello'),
    );
    assert.deepEqual(printed(output), [{ message: 'Hello world' }]);
    const call = only(calls, 'SayHello');
    assert.equal(call.service, 'helloworld.Greeter');
    assert.deepEqual(
      call.request.map((m) => m.fields),
      [[{ n: 1, t: 'string', v: 'world' }]],
    );
    assert.deepEqual(
      call.response.map((m) => m.fields),
      [[{ n: 1, t: 'string', v: 'Hello world' }]],
    );
    assert.deepEqual([call.status, call.trailersOnly], [0, undefined]);
    const pair = pairs.find((p) => p.grpc?.method === 'SayHello')!;
    assert.deepEqual(
      pair.response?.trailers?.find(([n]) => n === 'grpc-status'),
      ['grpc-status', '0'],
    );
    assert.equal(pair.request.path, '/helloworld.Greeter/SayHello');
    assert.equal(pair.request.body, undefined);
  });

  it('keeps every message of server, client and bidirectional streams in order', async () => {
    const rect = {
      lo: { latitude: 400000000, longitude: -750000000 },
      hi: { latitude: 420000000, longitude: -730000000 },
    };
    const features = await routeCall('ListFeatures', [rect], 'Rectangle', 'Feature');
    assert.ok(features.response.length > 10);
    const offsets = features.response.map((m) => m.offsetMs);
    assert.deepEqual(
      offsets,
      [...offsets].sort((a, b) => a - b),
    );

    const points = [
      { latitude: 407838351, longitude: -746143763 },
      { latitude: 1, longitude: 2 },
      { latitude: -3, longitude: 4 },
    ];
    await routeCall('RecordRoute', points, 'Point', 'RouteSummary');
    const notes = ['first', 'second', 'third'].map((message) => ({
      location: { latitude: 5, longitude: -6 },
      message,
    }));
    const bidi = await routeCall('RouteChat', notes, 'RouteNote', 'RouteNote');
    assert.ok(bidi.response.length >= 3);
    assert.equal(bidi.status, 0);
  });

  it('decodes gzip-compressed messages (grpc-encoding: gzip)', async () => {
    const { output, calls } = await capture(servers.compression, (addr) =>
      runClient(tools.compression_client, [`-addr=${addr}`]),
    );
    assert.match(output, /UnaryEcho call returned "compress"/);
    const call = only(calls, 'UnaryEcho');
    assert.equal(call.requestEncoding, 'gzip');
    assert.equal(call.request[0].compressed, true);
    assert.deepEqual(call.request[0].fields, [{ n: 1, t: 'string', v: 'compress' }]);
    assert.deepEqual(call.response[0].fields, [{ n: 1, t: 'string', v: 'compress' }]);
  });

  it('names fields from the server’s reflection, and reads a trailers-only error status', async () => {
    const relay = await TeeRelay.start(servers.reflection.port);
    relays.push(relay);
    const { registry, version, services } = await fetchDescriptors(`http://127.0.0.1:${relay.port}`);
    assert.equal(version, 'v1');
    assert.deepEqual(services.sort(), ['grpc.examples.echo.Echo', 'helloworld.Greeter']);
    const say = registry.method('helloworld.Greeter', 'SayHello');
    assert.deepEqual([say?.inputType, say?.outputType], ['helloworld.HelloRequest', 'helloworld.HelloReply']);
    assert.equal(
      registry.method('grpc.examples.echo.Echo', 'BidirectionalStreamingEcho')?.clientStreaming,
      true,
    );
    // The older protocol reads the same schemas (grpc-go serves both).
    const alpha = await fetchDescriptors(`http://127.0.0.1:${servers.reflection.port}`, {
      versions: ['v1alpha'],
    });
    assert.equal(alpha.version, 'v1alpha');
    assert.deepEqual(alpha.registry.method('helloworld.Greeter', 'SayHello'), say);

    // grpcurl without .proto files finds the schema through reflection itself.
    const { calls } = await capture(
      servers.reflection,
      grpcurl(undefined, '{"name":"named"}', 'helloworld.Greeter/SayHello'),
    );
    assert.ok(calls.some((c) => c.service === 'grpc.reflection.v1.ServerReflection'));
    const named = registry.nameCall(only(calls, 'SayHello'));
    assert.deepEqual(named.request[0].fields, [{ n: 1, name: 'name', t: 'string', v: 'named' }]);
    assert.deepEqual(named.response[0].fields, [{ n: 1, name: 'message', t: 'string', v: 'Hello named' }]);

    const failed = await capture(
      servers.reflection,
      grpcurl(undefined, '{"message":"x"}', 'grpc.examples.echo.Echo/ServerStreamingEcho'),
    );
    const unimplemented = only(failed.calls, 'ServerStreamingEcho');
    assert.deepEqual([unimplemented.status, unimplemented.trailersOnly], [12, true]);
    assert.match(unimplemented.message ?? '', /not implemented/);
  });

  it('encodes every real message back to its exact bytes, and a masked one is still valid', async () => {
    assert.ok(corpus.length > 40, `${corpus.length} messages`);
    assert.ok(
      corpus.some((b) => b.length > 500),
      'reflection descriptors are among them',
    );
    for (const bytes of corpus) {
      const fields = decodeMessage(bytes);
      assert.ok(fields, `decodes ${bytes.toString('hex').slice(0, 40)}`);
      assert.ok(encodeMessage(fields).equals(bytes));
    }
    // Mask HelloRequest.name in the decoded form, re-encode, and let the real server read it.
    const fields = decodeMessage(encodeMessage([{ n: 1, t: 'string', v: 'alice@example.com' }]))!;
    fields[0] = { ...fields[0], v: '[email]' } as ProtoField;
    const reply = await unary(servers.greeter.port, '/helloworld.Greeter/SayHello', encodeMessage(fields));
    assert.deepEqual(decodeMessage(reply), [{ n: 1, t: 'string', v: 'Hello [email]' }]);
  });
});

/** A unary gRPC call over node:http2 with a raw message. */
async function unary(port: number, path: string, message: Buffer): Promise<Buffer> {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  try {
    const req = session.request({
      ':method': 'POST',
      ':path': path,
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    const prefix = Buffer.alloc(5);
    prefix.writeUInt32BE(message.length, 1);
    req.end(Buffer.concat([prefix, message]));
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    return body.subarray(5, 5 + body.readUInt32BE(1));
  } finally {
    session.close();
  }
}
