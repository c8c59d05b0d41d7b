/**
 * The HTTP/2 connection decoder on hand-built frames, for what real peers rarely do on
 * demand: garbage, a gap outside DATA, too many streams, GOAWAY refusals, server push.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type H2DecodeError,
  H2ConnectionDecoder,
  type H2Limits,
} from '../../src/protocols/http2/connection.js';
import type { H2Exchange } from '../../src/protocols/http2/exchange.js';
import { Flag, FrameType, H2_PREFACE } from '../../src/protocols/http2/frames.js';

function frame(type: number, flags: number, stream: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const h = Buffer.alloc(9);
  h.writeUIntBE(payload.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(stream, 5);
  return Buffer.concat([h, payload]);
}

/** A header block of literals without indexing (names and values under 128 bytes). */
function block(headers: [string, string][]): Buffer {
  const parts = headers.flatMap(([n, v]) => [
    Buffer.from([0, n.length]),
    Buffer.from(n),
    Buffer.from([v.length]),
    Buffer.from(v),
  ]);
  return Buffer.concat(parts);
}

const get = (path: string) =>
  block([
    [':method', 'GET'],
    [':scheme', 'http'],
    [':authority', 'x'],
    [':path', path],
  ]);
const ok = block([[':status', '200']]);
const END = Flag.END_HEADERS | Flag.END_STREAM;

function decoder(limits?: H2Limits) {
  const exchanges: H2Exchange[] = [];
  const errors: H2DecodeError[] = [];
  const dec = new H2ConnectionDecoder(
    { onExchange: (e) => exchanges.push(e), onError: (e) => errors.push(e) },
    limits,
  );
  dec.push(0, Buffer.concat([H2_PREFACE, frame(FrameType.SETTINGS, 0, 0)]), 0);
  dec.push(1, frame(FrameType.SETTINGS, 0, 0), 0);
  return { dec, exchanges, errors };
}

describe('HTTP/2 connection decoder', () => {
  it('never throws on garbage: it stops, reports once, and reports the open streams', () => {
    const { dec, exchanges, errors } = decoder();
    dec.push(0, frame(FrameType.HEADERS, END, 1, get('/a')), 1);
    dec.push(1, Buffer.from('HTTP/1.1 200 OK\r\n\r\n'), 2); // 'HTT' as a frame length: 4.7 MB
    dec.push(1, frame(FrameType.HEADERS, END, 1, ok), 3);
    dec.end(4);
    assert.equal(errors.length, 1);
    assert.deepEqual(
      [errors[0].scope, errors[0].direction, errors[0].code],
      ['connection', 'server', 'FRAME_ERROR'],
    );
    assert.equal(exchanges.length, 1);
    assert.match(exchanges[0].error?.message ?? '', /decoding stopped/);
    assert.equal(dec.stats.errors, 1);

    const bad = decoder();
    bad.dec.push(0, frame(FrameType.HEADERS, END, 1, Buffer.from([0xbf])), 1); // index 63: past an empty table
    assert.equal(bad.errors[0]?.code, 'HPACK_ERROR');
    const notH2 = new H2ConnectionDecoder({ onExchange: () => {} });
    notH2.push(0, Buffer.from('GET / HTTP/1.1\r\n\r\n'), 0);
    assert.equal(notH2.stats.errors, 1);
  });

  it('accepts a gap only inside a DATA payload', () => {
    const { dec, exchanges, errors } = decoder();
    dec.push(0, frame(FrameType.HEADERS, END, 1, get('/big')), 1);
    dec.push(1, frame(FrameType.HEADERS, Flag.END_HEADERS, 1, ok), 2);
    const data = frame(FrameType.DATA, Flag.END_STREAM, 1, Buffer.alloc(1000, 7));
    dec.push(1, data.subarray(0, 109), 3); // header + 100 bytes
    dec.gap(1, 900, 4);
    dec.push(0, frame(FrameType.HEADERS, END, 3, get('/next')), 5);
    dec.push(1, frame(FrameType.HEADERS, END, 3, ok), 6);
    assert.deepEqual(errors, []);
    assert.equal(exchanges.length, 2);
    const body = exchanges[0].response!.body;
    assert.deepEqual([body.kept, body.size, body.truncated], [100, 1000, true]);
    dec.gap(1, 5, 7);
    const [err] = errors as H2DecodeError[];
    assert.equal(err?.code, 'FRAME_ERROR');
    assert.match(err.message, /outside a DATA payload/);
  });

  it('records at most maxStreams at once and counts the rest, keeping HPACK in step', () => {
    const { dec, exchanges, errors } = decoder({ maxStreams: 2 });
    // Incremental indexing (0x40) so that later blocks depend on every earlier one.
    const indexed = (v: string) =>
      Buffer.concat([Buffer.from([0x40, 5]), Buffer.from('x-seq'), Buffer.from([v.length]), Buffer.from(v)]);
    for (const id of [1, 3, 5, 7])
      dec.push(0, frame(FrameType.HEADERS, END, id, Buffer.concat([get(`/${id}`), indexed(`n${id}`)])), id);
    assert.equal(dec.stats.untrackedStreams, 2);
    assert.deepEqual(
      errors.map((e) => [e.code, e.streamId]),
      [
        ['TOO_MANY_STREAMS', 5],
        ['TOO_MANY_STREAMS', 7],
      ],
    );
    for (const id of [1, 3]) dec.push(1, frame(FrameType.HEADERS, END, id, ok), 10);
    // Stream 9 refers to the newest table entry (index 62), set by the untracked stream 7.
    dec.push(0, frame(FrameType.HEADERS, END, 9, Buffer.concat([get('/9'), Buffer.from([0xbe])])), 11);
    dec.push(1, frame(FrameType.HEADERS, END, 9, ok), 12);
    assert.deepEqual(
      exchanges.map((e) => e.streamId),
      [1, 3, 9],
    );
    assert.deepEqual(exchanges[2].request.headers.at(-1), ['x-seq', 'n7']);
  });

  it('reports streams a GOAWAY refused, and a server push as its own exchange', () => {
    const { dec, exchanges } = decoder();
    dec.push(0, frame(FrameType.HEADERS, END, 1, get('/page')), 1);
    dec.push(0, frame(FrameType.HEADERS, END, 3, get('/refused')), 2);
    const promise = Buffer.concat([Buffer.from([0, 0, 0, 2]), get('/style.css')]);
    dec.push(1, frame(FrameType.PUSH_PROMISE, Flag.END_HEADERS, 1, promise), 3);
    const goaway = Buffer.alloc(8);
    goaway.writeUInt32BE(1, 0);
    goaway.writeUInt32BE(0, 4);
    dec.push(1, frame(FrameType.GOAWAY, 0, 0, goaway), 4);
    assert.deepEqual(
      exchanges.map((e) => [e.streamId, e.error?.code, e.goaway?.lastStreamId]),
      [[3, 'REFUSED_BY_GOAWAY', 1]],
    );
    dec.push(1, frame(FrameType.HEADERS, END, 1, ok), 5);
    dec.push(1, frame(FrameType.HEADERS, Flag.END_HEADERS, 2, ok), 6);
    dec.push(1, frame(FrameType.DATA, Flag.END_STREAM, 2, Buffer.from('body{}')), 7);
    dec.end(8);
    const pushed = exchanges.find((e) => e.streamId === 2)!;
    assert.equal(pushed.pushedBy, 1);
    assert.equal(pushed.response!.body.bytes().toString(), 'body{}');
    assert.equal(exchanges.find((e) => e.streamId === 1)!.error, undefined);
  });

  it('bounds the body bytes kept per connection across streams', () => {
    const { dec, exchanges } = decoder({ maxBufferedBytes: 1500, maxBody: 1000 });
    for (const id of [1, 3]) {
      dec.push(0, frame(FrameType.HEADERS, END, id, get(`/${id}`)), 1);
      dec.push(1, frame(FrameType.HEADERS, Flag.END_HEADERS, id, ok), 2);
      dec.push(1, frame(FrameType.DATA, 0, id, Buffer.alloc(1000, id)), 3);
    }
    for (const id of [1, 3]) dec.push(1, frame(FrameType.DATA, Flag.END_STREAM, id), 4);
    assert.deepEqual(
      exchanges.map((e) => [e.response!.body.kept, e.response!.body.size]),
      [
        [1000, 1000],
        [500, 1000],
      ],
    );
    assert.equal(dec.stats.truncatedBodies, 1);
  });
});
