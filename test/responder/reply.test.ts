import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { recordedReply, type PreparedResponse } from '../../src/responder/recorded-reply.js';
import { outbound, type OutboundSpec } from './fixtures.js';
import { textBody } from '../../tools/fixtures/pairs.js';

function prepared(
  spec: OutboundSpec,
  latency: Parameters<typeof recordedReply>[1] = 'none',
): PreparedResponse {
  const reply = recordedReply(outbound(spec), latency);
  assert.ok(reply && reply.kind === 'respond');
  return reply.response;
}

describe('recorded reply', () => {
  it('always frames the body with its own content-length', () => {
    const r = prepared({
      responseHeaders: [
        ['Content-Length', '9999'],
        ['Transfer-Encoding', 'chunked'],
      ],
      responseBody: textBody('héllo'),
    });
    assert.equal(r.headers['content-length'], '6');
    assert.equal(r.headers['transfer-encoding'], undefined);
    assert.equal(r.headers['x-reprise-match'], 'MATCH');
    const bodiless = outbound();
    delete bodiless.response!.body;
    const empty = recordedReply(bodiless, 'none');
    assert.ok(empty?.kind === 'respond');
    assert.equal(empty.response.headers['content-length'], '0');
  });

  it('keeps the recorded length for HEAD and 304, and sends none for 204', () => {
    const head = prepared({
      method: 'HEAD',
      responseHeaders: [['content-length', '1234']],
      responseBody: textBody(''),
    });
    assert.deepEqual([head.headers['content-length'], head.rawBody.length], ['1234', 0]);
    const notModified = prepared({
      status: 304,
      responseHeaders: [['content-length', '50']],
      responseBody: textBody(''),
    });
    assert.equal(notModified.headers['content-length'], '50');
    const noContent = prepared({
      status: 204,
      responseHeaders: [['content-length', '0']],
      responseBody: textBody(''),
    });
    assert.equal(noContent.headers['content-length'], undefined);
  });

  it('sends a body recorded decoded as identity', () => {
    const r = prepared({
      responseHeaders: [
        ['content-encoding', 'gzip'],
        ['vary', 'accept-encoding'],
      ],
      responseBody: textBody('plain', { decodedFrom: 'gzip', size: 25 }),
    });
    assert.equal(r.headers['content-encoding'], undefined);
    assert.equal(r.headers.vary, 'accept-encoding');
    const raw = prepared({
      responseHeaders: [['content-encoding', 'gzip']],
      responseBody: textBody('still gzip bytes'),
    });
    assert.equal(raw.headers['content-encoding'], 'gzip', 'bytes recorded as sent keep their encoding');
  });

  it('drops pseudo-headers and values Node cannot send', () => {
    const r = prepared({
      responseHeaders: [
        [':status', '200'],
        ['x-bad', 'line\r\nbreak'],
        ['x-ok', 'fine'],
      ],
    });
    assert.deepEqual(Object.keys(r.headers).sort(), ['content-length', 'x-ok', 'x-reprise-match']);
  });

  it('waits as configured', () => {
    const pair = outbound({ durationMs: 42 });
    assert.equal(recordedReply(pair, 'none')?.delayMs, 0);
    assert.equal(recordedReply(pair, 'recorded')?.delayMs, 42);
    assert.equal(recordedReply(pair, { fixedMs: 7 })?.delayMs, 7);
  });

  it('replays a call that got no response as a closed or reset connection', () => {
    const closed = outbound({ noResponse: true });
    assert.equal(recordedReply(closed, 'none')?.kind, 'close');
    assert.equal(
      recordedReply({ ...closed, error: { code: 'ECONNRESET', message: 'reset' } }, 'none')?.kind,
      'reset',
    );
  });
});
