/** A schema from FileDescriptorProto bytes settles what the wire alone reads wrongly, exactly. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DescriptorRegistry } from '../../src/protocols/grpc/descriptors.js';
import { type ProtoField, decodeMessage, encodeMessage } from '../../src/protocols/grpc/protobuf.js';

const s = (n: number, v: string): ProtoField => ({ n, t: 'string', v });
const i = (n: number, v: number): ProtoField => ({ n, t: 'varint', v });
const m = (n: number, v: ProtoField[]): ProtoField => ({ n, t: 'message', v });

/** FieldDescriptorProto: name 1, number 3, label 4 (3 = repeated), type 5, type_name 6. */
const field = (name: string, number: number, type: number, extra: ProtoField[] = []) =>
  m(2, [s(1, name), i(3, number), i(4, 1), i(5, type), ...extra]);

// package demo; message Inner { string text = 5; }
// message Outer { Inner inner = 4; repeated int32 ids = 5; string note = 6; bytes blob = 7; }
// service Notes { rpc Put(Outer) returns (Inner); }
const file = encodeMessage([
  s(1, 'demo.proto'),
  s(2, 'demo'),
  m(4, [s(1, 'Inner'), field('text', 5, 9)]),
  m(4, [
    s(1, 'Outer'),
    field('inner', 4, 11, [s(6, '.demo.Inner')]),
    m(2, [s(1, 'ids'), i(3, 5), i(4, 3), i(5, 5)]),
    field('note', 6, 9),
    field('blob', 7, 12),
  ]),
  m(6, [s(1, 'Notes'), m(2, [s(1, 'Put'), s(2, '.demo.Outer'), s(3, '.demo.Inner')])]),
]);

describe('naming decoded fields from descriptors', () => {
  it('reads the file: messages, fields, services and methods', () => {
    const reg = new DescriptorRegistry();
    assert.equal(reg.addFile(file), 'demo.proto');
    assert.deepEqual(reg.services(), ['demo.Notes']);
    assert.deepEqual(reg.method('demo.Notes', 'Put'), {
      service: 'demo.Notes',
      name: 'Put',
      inputType: 'demo.Outer',
      outputType: 'demo.Inner',
      clientStreaming: false,
      serverStreaming: false,
    });
    assert.deepEqual(reg.message('demo.Outer')?.fields.get(5), {
      name: 'ids',
      number: 5,
      type: 5,
      repeated: true,
    });
  });

  it('re-reads what the wire alone got wrong, and still encodes back the same bytes', () => {
    const reg = new DescriptorRegistry();
    reg.addFile(file);
    // Inner{text} whose bytes are all printable ('*' tag, a length of 40, text): looks like a string.
    const inner = encodeMessage([s(5, 'a printable text of exactly forty chars!')]);
    const packedIds = Buffer.from([0xc8, 0x01, 0xac, 0x02]); // 200, 300: also reads as a message {25: 300}
    const wire = encodeMessage([
      { n: 4, t: 'bytes', v: inner.toString('base64') },
      { n: 5, t: 'bytes', v: packedIds.toString('base64') },
      { n: 6, t: 'bytes', v: Buffer.from([1, 2]).toString('base64') }, // control characters: read as packed
      { n: 7, t: 'bytes', v: Buffer.from('blob').toString('base64') },
      i(9, 1), // not in the schema: kept, unnamed
    ]);
    const raw = decodeMessage(wire)!;
    assert.deepEqual(
      raw.map((f) => f.t),
      ['string', 'message', 'packed', 'string', 'varint'],
    );
    const named = reg.nameFields(raw, 'demo.Outer');
    assert.deepEqual(named, [
      {
        n: 4,
        name: 'inner',
        t: 'message',
        v: [{ n: 5, name: 'text', t: 'string', v: 'a printable text of exactly forty chars!' }],
      },
      { n: 5, name: 'ids', t: 'packed', v: [200, 300] },
      { n: 6, name: 'note', t: 'string', v: '\u0001\u0002' },
      { n: 7, name: 'blob', t: 'bytes', v: Buffer.from('blob').toString('base64') },
      i(9, 1),
    ]);
    assert.ok(encodeMessage(named).equals(wire));
  });
});
