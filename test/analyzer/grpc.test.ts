/**
 * gRPC responses compared message by message on decoded fields: the grpc-go greeter's
 * recorded answers against a replay of the same calls to the same server (no differences) and
 * to a server that answers otherwise (a changed field, a changed status), with ignore paths
 * and noise detection on the decoded form.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { analyzeReplay } from '../../src/analyzer/index.js';
import { grpcView } from '../../src/analyzer/grpc-compare.js';
import type { ObservedExchange } from '../../src/model/replay.js';
import type { RRPair } from '../../src/model/traffic.js';
import { makeGrpcPair } from '../../tools/fixtures/pairs.js';
import { recordGrpc, sayHello } from '../helpers/grpc-recording.js';
import { type Server, peerTools, startServer } from '../protocols/peers.js';
import { defaultAssertions, meta, noGoals, stream, T0 } from './fixtures.js';

const tools = peerTools();
let greeter: Server;
const recorded: RRPair[] = [];

before(async () => {
  greeter = await startServer(tools.greeter_server, (p) => [`-port=${p}`]);
  for (const name of ['world', 'reprise']) {
    recorded.push(
      ...(await recordGrpc(greeter, sayHello(name), { direction: 'inbound', service: 'greeter' })).pairs,
    );
  }
});

after(() => greeter?.stop());

/** An observed line for a recorded call, answered with `message` (the greeter's field 1). */
function answered(pair: RRPair, message: string, status = 0): ObservedExchange {
  const fields = message ? [{ n: 1, t: 'string' as const, v: message }] : [];
  return {
    pairId: pair.id,
    pass: 0,
    sentAt: new Date(T0 + 1000).toISOString(),
    latencyMs: 1,
    request: { method: 'POST', url: `http://127.0.0.1:1${pair.request.path}` },
    response: {
      status: 200,
      headers: [['content-type', 'application/grpc']],
      trailers: [['grpc-status', String(status)]],
      grpc: { status, response: status ? [] : [{ offsetMs: 1, size: fields.length, fields }] },
    },
  };
}

const analyze = (observed: ObservedExchange[], ignore: string[] = []) =>
  analyzeReplay({
    recorded: stream(recorded),
    observed: stream(observed),
    assertions: defaultAssertions({ ignore }),
    goals: noGoals,
    meta: meta(),
    now: new Date(T0),
  });

describe('analyzer: gRPC responses on decoded fields', () => {
  it('passes the answers the real server gave', async () => {
    assert.equal(recorded.length, 2);
    const report = await analyze([
      answered(recorded[0], 'Hello world'),
      answered(recorded[1], 'Hello reprise'),
    ]);
    assert.equal(report.summary.assertionsFailed, 0);
    assert.equal(report.summary.assertionsPassed, 2);
  });

  it('names a changed field by its number, in its message', async () => {
    const report = await analyze([answered(recorded[0], 'Hi world'), answered(recorded[1], 'Hello reprise')]);
    assert.equal(report.summary.assertionsFailed, 1);
    const diffs = report.diffs.flatMap((r) => r.diffs).filter((d) => !d.noise);
    assert.deepEqual(
      diffs.map((d) => [d.path, d.expected, d.actual]),
      [["$.messages[0]['1']", '"Hello world"', '"Hi world"']],
    );
  });

  it('reports a changed gRPC status and the missing messages', async () => {
    const report = await analyze([answered(recorded[0], '', 5), answered(recorded[1], 'Hello reprise')]);
    const paths = report.diffs.flatMap((r) => r.diffs).map((d) => d.path);
    assert.ok(paths.includes('$.grpcStatus'), paths.join());
    assert.ok(paths.includes('$.messages[0]'), paths.join());
  });

  it('leaves ignored fields out', async () => {
    const report = await analyze(
      [answered(recorded[0], 'Hi world'), answered(recorded[1], 'Hi reprise')],
      ['$.messages[*].1'],
    );
    assert.equal(report.summary.assertionsFailed, 0);
  });

  it('keys fields by number, nested messages as objects and repeated fields as arrays', () => {
    const pair = makeGrpcPair({
      path: '/routeguide.RouteGuide/ListFeatures',
      request: [[]],
      response: [
        [
          { n: 1, name: 'name', t: 'string', v: 'a' },
          { n: 2, t: 'message', v: [{ n: 1, t: 'varint', v: 7 }] },
          { n: 3, t: 'varint', v: 1 },
          { n: 3, t: 'varint', v: 2 },
        ],
      ],
    });
    assert.deepEqual(grpcView(pair.grpc!), {
      grpcStatus: 0,
      grpcMessage: '',
      messages: [{ 1: 'a', 2: { 1: 7 }, 3: [1, 2] }],
    });
  });
});
