/** The schema-less protobuf codec: what it reads, that it never loses a byte, and editing. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type ProtoField,
  ProtoEncodeError,
  decodeMessage,
  encodeMessage,
} from '../../src/protocols/grpc/protobuf.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function roundTrip(bytes: Buffer): ProtoField[] {
  const fields = decodeMessage(bytes);
  assert.ok(fields, `decodes ${bytes.toString('hex')}`);
  assert.equal(encodeMessage(fields).toString('hex'), bytes.toString('hex'));
  return fields;
}

describe('schema-less protobuf decoding', () => {
  it('reads the wire types: varint, 64-bit, 32-bit, strings and nested messages', () => {
    // The protobuf documentation's example: field 1 = 150.
    assert.deepEqual(roundTrip(hex('089601')), [{ n: 1, t: 'varint', v: 150 }]);
    const fields = roundTrip(hex('120774657374696e67 1a03089601 2d01000000 310200000000000000'));
    assert.deepEqual(fields, [
      { n: 2, t: 'string', v: 'testing' },
      { n: 3, t: 'message', v: [{ n: 1, t: 'varint', v: 150 }] },
      { n: 5, t: 'fixed32', v: 1 },
      { n: 6, t: 'fixed64', v: 2 },
    ]);
  });

  it('keeps 64-bit values past 2^53 exact as decimal strings (negative int32/int64)', () => {
    // int32 -1 is sent as a ten-byte varint.
    const f = roundTrip(hex('08ffffffffffffffffff01'));
    assert.deepEqual(f, [{ n: 1, t: 'varint', v: '18446744073709551615' }]);
    assert.deepEqual(roundTrip(hex('09ffffffffffffffff')), [
      { n: 1, t: 'fixed64', v: '18446744073709551615' },
    ]);
  });

  it('reads small varint runs as packed, other binary as bytes, bad UTF-8 never as text', () => {
    assert.deepEqual(roundTrip(hex('2203010203')), [{ n: 4, t: 'packed', v: [1, 2, 3] }]);
    assert.deepEqual(roundTrip(hex('2204ffffffff')), [{ n: 4, t: 'bytes', v: '/////w==' }]);
    assert.deepEqual(roundTrip(hex('220668c3a96c6c6f')), [{ n: 4, t: 'string', v: 'héllo' }]);
  });

  it('does not read non-canonical encodings as messages, so nothing changes on the way back', () => {
    // Field 1 = 1 written with a redundant continuation byte (0x81 0x00): not canonical.
    assert.equal(decodeMessage(hex('088100')), undefined);
    // Nested, it stays raw bytes in the parent and still encodes back exactly.
    const f = roundTrip(hex('0a03088100'));
    assert.deepEqual(f, [{ n: 1, t: 'bytes', v: Buffer.from(hex('088100')).toString('base64') }]);
    // Groups, field 0 and truncated values are not messages either.
    for (const bad of ['0b0c', '0001', '0a05aa', '0d0100'])
      assert.equal(decodeMessage(hex(bad)), undefined, bad);
  });

  it('stops nesting at 32 levels: deeper values stay raw, still exact', () => {
    let bytes = hex('0801');
    for (let i = 0; i < 40; i++) bytes = Buffer.concat([hex('0a'), Buffer.from([bytes.length]), bytes]);
    let f: ProtoField[] = roundTrip(bytes);
    let depth = 0;
    while (f[0].t === 'message') {
      f = f[0].v;
      depth++;
    }
    assert.equal(depth, 32);
    assert.ok(f[0].t === 'bytes' || f[0].t === 'packed', f[0].t);
  });
});

describe('encoding an edited message', () => {
  it('re-encodes a masked string with the lengths around it recomputed', () => {
    const original = hex('0a0b0a05616c696365120234321001');
    const fields = roundTrip(original);
    const inner = fields[0] as Extract<ProtoField, { t: 'message' }>;
    assert.deepEqual(inner.v[0], { n: 1, t: 'string', v: 'alice' });
    inner.v[0] = { n: 1, t: 'string', v: '[masked-email]' };
    const masked = encodeMessage(fields);
    assert.deepEqual(decodeMessage(masked), [
      {
        n: 1,
        t: 'message',
        v: [
          { n: 1, t: 'string', v: '[masked-email]' },
          { n: 2, t: 'string', v: '42' },
        ],
      },
      { n: 2, t: 'varint', v: 1 },
    ]);
  });

  it('names the field and what was expected when an edit does not fit the wire type', () => {
    const bad: unknown[] = [
      [{ n: 1, t: 'varint', v: -1 }, /field 1: expected an unsigned 64-bit integer, got -1/],
      [{ n: 1, t: 'varint', v: '18446744073709551616' }, /unsigned 64-bit/],
      [{ n: 0, t: 'string', v: 'x' }, /field 0: number must be/],
      [{ n: 3, name: 'email', t: 'string', v: 7 }, /field email: string value must be a string/],
      [{ n: 2, t: 'fixed32', v: 2 ** 32 }, /field 2: fixed32/],
    ];
    for (const [field, message] of bad as [ProtoField, RegExp][]) {
      assert.throws(
        () => encodeMessage([field]),
        (err: Error) => err instanceof ProtoEncodeError && message.test(err.message),
      );
    }
  });
});
