/**
 * The key of a gRPC call: its `:path` and the exact bytes of every request message, so a call
 * is matched on its decoded request (decode -> encode is exact, so recorded fields and live
 * bytes agree). `ignore.body` entries of the form `$.2` or `$.3.1` (field numbers, as the
 * analyzer addresses protobuf fields) drop those fields from both sides before keying; other
 * entries are JSON paths and do not apply to protobuf messages.
 */
import { createHash } from 'node:crypto';
import { type ProtoField, decodeMessage, encodeMessage } from '../../protocols/grpc/protobuf.js';

/** Field-number paths left out of the key. */
export type FieldPaths = number[][];

const NUMBER_PATH = /^\$(\.\d+)+$/;

export function compileFieldPaths(ignoreBody: readonly string[]): FieldPaths {
  return ignoreBody.filter((p) => NUMBER_PATH.test(p)).map((p) => p.slice(2).split('.').map(Number));
}

/** The call key; `messages` are the request messages' bytes, in order. */
export function callKey(path: string, messages: readonly Buffer[], ignore: FieldPaths): string {
  const hash = createHash('sha256');
  for (const m of messages) {
    const bytes = ignore.length ? withoutFields(m, ignore) : m;
    const len = Buffer.allocUnsafe(4);
    len.writeUInt32BE(bytes.length);
    hash.update(len).update(bytes);
  }
  return `${path} ${messages.length}:${hash.digest('base64url').slice(0, 22)}`;
}

/**
 * One request message's digest (after the ignored fields are left out): a conversation's
 * messages are checked one by one as they arrive (conversation.ts).
 */
export function messageDigest(message: Buffer, ignore: FieldPaths): string {
  const bytes = ignore.length ? withoutFields(message, ignore) : message;
  return createHash('sha256').update(bytes).digest('base64url').slice(0, 22);
}

/** The key of a conversation's opening: its path and the digests of the messages before its first answer. */
export function openingKey(path: string, digests: readonly string[]): string {
  return `${path} ${digests.length}:${digests.join('')}`;
}

/** The message re-encoded without the ignored fields; bytes that are not a message stay as they are. */
function withoutFields(bytes: Buffer, ignore: FieldPaths): Buffer {
  const fields = decodeMessage(bytes);
  if (!fields) return bytes;
  let kept = fields;
  for (const path of ignore) kept = drop(kept, path);
  return encodeMessage(kept);
}

function drop(fields: ProtoField[], path: number[]): ProtoField[] {
  const [n, ...rest] = path;
  if (rest.length === 0) return fields.filter((f) => f.n !== n);
  return fields.map((f) => (f.n === n && f.t === 'message' ? { ...f, v: drop(f.v, rest) } : f));
}
