/**
 * Records real gRPC calls as format-2 pairs: a client talks to a real server through a relay
 * that tees both directions, the HTTP/2 decoder reads them, and every gRPC exchange becomes a
 * pair (the same path the sidecar takes, without the sidecar).
 */
import assert from 'node:assert/strict';
import type { RRPair } from '../../src/model/traffic.js';
import { grpcCall } from '../../src/protocols/grpc/call.js';
import { h2PairParts } from '../../src/protocols/grpc/recorded-format.js';
import { makeH2Pair } from '../../tools/fixtures/pairs.js';
import { decodeEvents } from '../protocols/decode.js';
import { type Server, TeeRelay, peerTools, runClient } from '../protocols/peers.js';

export interface Recorded {
  pairs: RRPair[];
  /** What the client printed (or its error text when it failed). */
  output: string;
}

/** Runs `client` against `server` through a tee and returns its calls as pairs, in start order. */
export async function recordGrpc(
  server: Server,
  client: (addr: string) => Promise<string>,
  pair: { direction: RRPair['direction']; service: string },
): Promise<Recorded> {
  const relay = await TeeRelay.start(server.port);
  try {
    const output = await client(`127.0.0.1:${relay.port}`).catch((err: Error) => err.message);
    await relay.idle();
    const pairs: RRPair[] = [];
    for (const events of relay.connections) {
      const decoded = decodeEvents(events);
      assert.deepEqual(decoded.errors, []);
      const origin = events[0]?.t ?? 0;
      for (const ex of decoded.exchanges) {
        const call = grpcCall(ex);
        if (!call) continue;
        const startedAt = new Date(Date.now() - (events.at(-1)!.t - origin) + (ex.startT - origin));
        pairs.push(makeH2Pair(h2PairParts(ex, call), { ...pair, startedAt: startedAt.toISOString() }));
      }
    }
    pairs.sort((a, b) => a.startedAt.localeCompare(b.startedAt));
    return { pairs, output };
  } finally {
    await relay.stop();
  }
}

/**
 * A grpcurl call with a .proto file from the peers' proto folder (no reflection needed), as a
 * client for `recordGrpc` or a live run: plaintext unless `extra` gives `-cacert`.
 */
export const grpcurl =
  (proto: string, method: string, data: string, extra: string[] = []) =>
  (addr: string) => {
    const tools = peerTools();
    return runClient(tools.grpcurl, [
      ...extra,
      ...(extra.includes('-cacert') ? [] : ['-plaintext']),
      '-import-path',
      tools.proto,
      '-proto',
      proto,
      '-d',
      data,
      addr,
      method,
    ]);
  };

/** SayHello to the helloworld greeter. */
export const sayHello = (name = 'world', extra?: string[]) =>
  grpcurl('helloworld.proto', 'helloworld.Greeter/SayHello', JSON.stringify({ name }), extra);
