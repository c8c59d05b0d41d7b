/**
 * An interactive bidi stream, a client that waits for answers before it sends more, is answered
 * from its recording as it goes: RouteChat of the grpc-go route_guide server (it answers each
 * note with every note sent to that place so far, itself included), recorded with a grpc-js client that
 * sends, waits, sends; then the server is stopped and the same client talks to the responder.
 * A client that then says something else, or stops early, gets NOT_FOUND naming the message,
 * counted as a miss.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { RRPair } from '../../src/model/traffic.js';
import { grpcOf } from '../../src/protocols/grpc/recorded-pair.js';
import { startResponder, type Responder } from '../../src/responder/index.js';
import { recordGrpc } from '../helpers/grpc-recording.js';
import { peerTools, startServer } from '../protocols/peers.js';

interface Note {
  location: { latitude: number; longitude: number };
  message: string;
}
type Step = { send: string } | { wait: number } | 'end';
interface ChatResult {
  received: string[];
  code: number;
  details: string;
}

const tools = peerTools();
const definition = protoLoader.loadSync(path.join(tools.proto, 'route_guide.proto'));
const RouteGuide = (
  grpc.loadPackageDefinition(definition) as unknown as {
    routeguide: { RouteGuide: new (addr: string, creds: grpc.ChannelCredentials) => grpc.Client };
  }
).routeguide.RouteGuide;

const note = (message: string): Note => ({ location: { latitude: 7, longitude: 7 }, message });

/** Runs the steps on one RouteChat call: `wait` waits until that many notes have come back in all. */
async function chat(addr: string, steps: Step[]): Promise<ChatResult> {
  const client = new RouteGuide(addr, grpc.credentials.createInsecure()) as grpc.Client & {
    RouteChat(opts: grpc.CallOptions): grpc.ClientDuplexStream<Note, Note>;
  };
  const call = client.RouteChat({ deadline: Date.now() + 15_000 });
  const received: string[] = [];
  let arrived: () => void = () => undefined;
  call.on('data', (n: Note) => {
    received.push(n.message);
    arrived();
  });
  const status = new Promise<ChatResult>((resolve) => {
    call.on('status', (s: grpc.StatusObject) => resolve({ received, code: s.code, details: s.details }));
    call.on('error', () => undefined);
  });
  for (const step of steps) {
    if (step === 'end') call.end();
    else if ('send' in step) call.write(note(step.send));
    else {
      let over = false;
      const ended = status.then(() => void (over = true));
      while (received.length < step.wait && !over)
        await Promise.race([new Promise<void>((r) => (arrived = r)), ended]);
      if (over) break;
    }
  }
  const result = await status;
  client.close();
  return result;
}

/** Says a note and waits for its answers, three times (1, 2, then 3 notes come back). */
const conversation = (third: string): Step[] => [
  { send: 'first' },
  { wait: 1 },
  { send: 'second' },
  { wait: 3 },
  { send: third },
  { wait: 6 },
  'end',
];

let recorded: ChatResult;
const pairs: RRPair[] = [];
let responder: Responder;
let caDir: string;

before(async () => {
  const route = await startServer(tools.route_guide_server, (p) => [`-port=${p}`]);
  try {
    const rec = await recordGrpc(
      route,
      async (addr) => JSON.stringify(await chat(addr, conversation('third'))),
      { direction: 'outbound', service: 'chat' },
    );
    recorded = JSON.parse(rec.output) as ChatResult;
    pairs.push(...rec.pairs);
  } finally {
    await route.stop();
  }
  caDir = await mkdtemp(path.join(os.tmpdir(), 'reprise-grpc-chat-'));
  responder = await startResponder({ pairs, caDir });
});

after(async () => {
  await responder?.close();
  if (caDir) await rm(caDir, { recursive: true, force: true });
});

const addr = () => `127.0.0.1:${responder.port}`;

describe('responder: interactive gRPC streams', () => {
  it('recorded a conversation: the server answered before the client had finished', () => {
    assert.deepEqual(recorded.received, ['first', 'first', 'second', 'first', 'second', 'third']);
    assert.equal(recorded.code, grpc.status.OK);
    const grpcPair = pairs.map(grpcOf).find((g) => g?.method === 'RouteChat');
    assert.ok(grpcPair);
    assert.equal(grpcPair.request.length, 3);
    assert.ok(
      grpcPair.response[0].offsetMs < grpcPair.request[1].offsetMs,
      'first answer before the second note',
    );
  });

  it('answers a client that waits for each answer, as recorded', async () => {
    const matched = responder.stats().match;
    assert.deepEqual(await chat(addr(), conversation('third')), recorded);
    assert.equal(responder.stats().match, matched + 1);
  });

  it('a message that differs from the recording ends the call with NOT_FOUND naming it', async () => {
    const misses = responder.stats().noMatch;
    const live = await chat(addr(), conversation('something else'));
    assert.deepEqual(
      live.received,
      ['first', 'first', 'second'],
      'the answers up to the difference, none after',
    );
    assert.equal(live.code, grpc.status.NOT_FOUND);
    assert.match(live.details, /request message 3 differs from the recorded call's/);
    assert.equal(responder.stats().noMatch, misses + 1);
    const miss = responder.stats().misses.find((m) => m.url.endsWith('/routeguide.RouteGuide/RouteChat'));
    assert.ok(miss, 'the miss is listed');
  });

  it('a client that stops early gets NOT_FOUND saying how many messages the recording has', async () => {
    const live = await chat(addr(), [{ send: 'first' }, { wait: 1 }, 'end']);
    assert.deepEqual(live.received, ['first']);
    assert.equal(live.code, grpc.status.NOT_FOUND);
    assert.match(live.details, /the request ended after 1 of the recorded call's 3 messages/);
  });

  it('a call that opens no recorded conversation is matched whole at its end, as before', async () => {
    const live = await chat(addr(), [{ send: 'elsewhere' }, 'end']);
    assert.equal(live.code, grpc.status.NOT_FOUND);
    assert.match(
      live.details,
      /no recorded call on \/routeguide.RouteGuide\/RouteChat with these request messages/,
    );
  });
});
