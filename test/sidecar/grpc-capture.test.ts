/**
 * gRPC through the sidecar's inbound proxy (h2c with prior knowledge, as gRPC clients speak it),
 * recorded by the real forwarder: real grpc-go example servers and clients and grpcurl
 * (scripts/ensure-grpc-tools.sh). Unary and streaming calls keep every message in order, field
 * names come from the server's reflection when it offers it, DLP masks inside the decoded
 * messages, and the HAR export shows the decoded messages with the body's bytes beside them.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { pairToEntry } from '../../src/har/pair-to-entry.js';
import type { GrpcMessage, ProtoField } from '../../src/model/h2.js';
import { decodeMessage } from '../../src/protocols/grpc/protobuf.js';
import { type Server, peerTools, runClient, startServer } from '../protocols/peers.js';
import { type CaptureRig, callsOf, captureRig } from './h2-harness.js';

const tools = peerTools();
let rig: CaptureRig;
const servers: Server[] = [];

before(async () => {
  rig = await captureRig();
});
after(async () => {
  for (const s of servers) await s.stop();
  await rig.close();
});

async function server(bin: string): Promise<Server> {
  const s = await startServer(bin, (p) => [`-port=${p}`]);
  servers.push(s);
  return s;
}

/** Runs a grpc-go example client; resolves with its log (stderr). */
function clientLog(bin: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(bin, args, { timeout: 60_000, maxBuffer: 16 << 20 }, (err, _stdout, stderr) =>
      err ? reject(new Error(`${bin}: ${err.message}\n${stderr}`)) : resolve(stderr),
    ),
  );
}

const field = (fields: ProtoField[] | undefined, n: number) => fields?.find((f) => f.n === n);
const str = (m: GrpcMessage | undefined, n: number) => {
  const f = field(m?.fields, n);
  assert.equal(f?.t, 'string', `field ${n} is a string`);
  return f.v as string;
};

describe('gRPC capture through the sidecar', () => {
  it('records a unary call with field names from reflection, the email in it masked, and exports it to HAR', async () => {
    const greeter = await server(tools.reflection_server);
    const email = 'alice.smith@example.com';
    const { out, pairs, stats } = await rig.capture({ appPort: greeter.port }, ({ inPort }) =>
      runClient(tools.grpcurl, [
        '-plaintext',
        '-d',
        JSON.stringify({ name: email }),
        `127.0.0.1:${inPort}`,
        'helloworld.Greeter/SayHello',
      ]),
    );
    assert.equal(JSON.parse(out).message, `Hello ${email}`, 'the client got its answer through the sidecar');
    assert.equal(stats.dropped, 0);
    const [call, ...more] = callsOf(pairs, 'helloworld.Greeter/SayHello');
    assert.equal(more.length, 0);
    assert.equal(call.protocol, 'h2');
    assert.equal(call.direction, 'inbound');
    assert.equal(call.h2?.via, 'prior-knowledge');
    assert.equal(call.request.path, '/helloworld.Greeter/SayHello');
    const g = call.grpc!;
    assert.equal(g.status, 0);
    assert.equal(g.schema, 'reflection');
    assert.equal(g.request.length, 1);
    assert.equal(g.response.length, 1);
    assert.equal(field(g.request[0].fields, 1)?.name, 'name');
    assert.equal(field(g.response[0].fields, 1)?.name, 'message');
    // DLP: the email is replaced by its token inside both messages, the rest of the text stays.
    const name = str(g.request[0], 1);
    assert.match(name, /^REDACTED-email-/);
    assert.equal(str(g.response[0], 1), `Hello ${name}`);
    assert.ok(!JSON.stringify(pairs).includes(email), 'the email is stored nowhere');
    // grpcurl asked the server for its schemas through the sidecar too: recorded as well.
    assert.ok(callsOf(pairs, 'grpc.reflection.v1.ServerReflection/ServerReflectionInfo').length >= 1);

    const har = pairToEntry(call);
    assert.equal(har.request.httpVersion, 'h2');
    assert.equal(har.response.httpVersion, 'h2');
    const post = har.request.postData as { text: string; _base64: string; mimeType: string };
    assert.equal(post.mimeType, 'application/grpc');
    assert.deepEqual(JSON.parse(post.text).messages, g.request);
    // The base64 is the gRPC body those messages encode to: one frame, the masked name in it.
    const body = Buffer.from(post._base64, 'base64');
    assert.equal(body[0], 0, 'not compressed');
    assert.equal(body.readUInt32BE(1), body.length - 5, 'one message');
    assert.deepEqual(decodeMessage(body.subarray(5)), [{ n: 1, t: 'string', v: name }]);
    const content = har.response.content as unknown as { text: string; _base64: string };
    assert.equal(JSON.parse(content.text).status, 0);
    assert.equal(JSON.parse(content.text).messages[0].fields[0].v, `Hello ${name}`);
  });

  it('keeps field numbers without reflection, and every message of streaming calls in order', async () => {
    const route = await server(tools.route_guide_server);
    const {
      out: log,
      pairs,
      stats,
    } = await rig.capture({ appPort: route.port }, ({ inPort }) =>
      clientLog(tools.route_guide_client, [`-addr=127.0.0.1:${inPort}`]),
    );
    assert.equal(stats.dropped, 0);
    // Unary: GetFeature twice.
    const get = callsOf(pairs, 'routeguide.RouteGuide/GetFeature');
    assert.equal(get.length, 2);
    assert.equal(get[0].grpc?.schema, 'none');
    assert.equal(
      str(get[0].grpc!.response[0], 1),
      'Berkshire Valley Management Area Trail, Jefferson, NJ, USA',
    );
    // Server streaming: one request, many responses, in order of arrival.
    const [list] = callsOf(pairs, 'routeguide.RouteGuide/ListFeatures');
    const features = list.grpc!.response;
    assert.equal(list.grpc!.request.length, 1);
    const printed = [...log.matchAll(/Feature: name: "(.*)", point/g)].map((m) => m[1]);
    assert.ok(printed.length > 10);
    assert.deepEqual(
      // proto3 leaves an empty name off the wire.
      features.map((m) => (field(m.fields, 1) ? str(m, 1) : '')),
      printed,
      'every feature the client got, in its order',
    );
    assert.equal(list.grpc!.status, 0);
    for (let i = 1; i < features.length; i++) assert.ok(features[i].offsetMs >= features[i - 1].offsetMs);
    // Client streaming: the summary counts the points the client sent.
    const [record] = callsOf(pairs, 'routeguide.RouteGuide/RecordRoute');
    const points = record.grpc!.request.length;
    assert.equal(points, Number(/Traversing (\d+) points/.exec(log)?.[1]));
    assert.equal(field(record.grpc!.response[0].fields, 1)?.v, points, 'point_count');
    // Bidirectional: six notes sent; each note comes back with the earlier ones at its location.
    const [chat] = callsOf(pairs, 'routeguide.RouteGuide/RouteChat');
    assert.deepEqual(
      chat.grpc!.request.map((m) => str(m, 2)),
      [
        'First message',
        'Second message',
        'Third message',
        'Fourth message',
        'Fifth message',
        'Sixth message',
      ],
    );
    assert.equal(chat.grpc!.response.length, [...log.matchAll(/Got message /g)].length);
    assert.equal(new Set(pairs.map((p) => p.h2?.connectionId)).size, 1, 'one connection, streams kept apart');
  });

  it('decodes gzip-compressed messages', async () => {
    const echo = await server(tools.compression_server);
    const { out, pairs } = await rig.capture({ appPort: echo.port }, ({ inPort }) =>
      runClient(tools.compression_client, [`-addr=127.0.0.1:${inPort}`]),
    );
    assert.match(out, /UnaryEcho call returned "compress"/);
    const [call] = callsOf(pairs, 'grpc.examples.echo.Echo/UnaryEcho');
    assert.equal(call.grpc?.requestEncoding, 'gzip');
    assert.equal(call.grpc?.request[0].compressed, true);
    assert.equal(str(call.grpc!.request[0], 1), 'compress');
    assert.equal(str(call.grpc!.response[0], 1), 'compress');
  });
});
