/**
 * gRPC message framing (the 5-byte length prefix of the gRPC over HTTP/2 spec): a stream body
 * into messages, each with the time its last byte arrived, decompressed when it is flagged
 * compressed with gzip or deflate (other encodings are kept raw and flagged).
 */
import { gunzipSync, inflateSync } from 'node:zlib';
import type { StreamBody } from '../http2/exchange.js';

export interface GrpcFrame {
  /** When the message's last byte arrived (the time scale of the body's chunks). */
  t: number;
  /** The compressed flag of its prefix. */
  compressed: boolean;
  /** Length from its prefix (the bytes on the wire, compressed or not). */
  size: number;
  /** The message bytes: decompressed when they could be; what was kept when `truncated`. */
  data: Buffer;
  /** The body was cut inside this message (body cap or a tap gap). */
  truncated: boolean;
  /** Compressed with an encoding not decoded here (or not decodable): `data` is still compressed. */
  rawEncoding?: string;
  error?: string;
}

export interface GrpcFraming {
  frames: GrpcFrame[];
  /** Bytes after the last complete prefix that do not form a message (a cut body's tail is in `frames`). */
  trailingBytes: number;
  /** Messages known to exist past the kept bytes are not counted: the body was cut. */
  truncated: boolean;
  /** Whole messages past `maxMessages`: counted, not decoded. */
  omitted: number;
}

/**
 * Splits a stream body into gRPC messages; `encoding` is the call's `grpc-encoding`. The first
 * `maxMessages` are kept; later ones are only counted.
 */
export function readGrpcFrames(
  body: StreamBody,
  encoding: string | undefined,
  maxMessage: number,
  maxMessages = Infinity,
): GrpcFraming {
  const frames: GrpcFrame[] = [];
  const bytes = body.bytes();
  // Cumulative end offsets of the chunks, to find when each message's last byte arrived.
  const ends: number[] = [];
  let acc = 0;
  for (const c of body.chunks) ends.push((acc += c.length));
  let ci = 0;
  const timeAt = (offset: number): number => {
    while (ci < ends.length - 1 && ends[ci] < offset) ci++;
    return body.times[ci] ?? 0;
  };
  let p = 0;
  let omitted = 0;
  while (p + 5 <= bytes.length) {
    const compressed = bytes[p] === 1;
    const size = bytes.readUInt32BE(p + 1);
    const start = p + 5;
    const end = start + size;
    if (frames.length >= maxMessages) {
      if (end <= bytes.length) omitted++;
      p = Math.min(end, bytes.length);
      continue;
    }
    if (end > bytes.length) {
      // Cut by the body cap (or a gap): keep what there is, flagged.
      const data = bytes.subarray(start);
      frames.push({ t: timeAt(bytes.length), compressed, size, data, truncated: true });
      return { frames, trailingBytes: 0, truncated: true, omitted };
    }
    frames.push(frame(bytes.subarray(start, end), compressed, size, encoding, maxMessage, timeAt(end)));
    p = end;
  }
  return { frames, trailingBytes: bytes.length - p, truncated: body.truncated, omitted };
}

function frame(
  data: Buffer,
  compressed: boolean,
  size: number,
  encoding: string | undefined,
  maxMessage: number,
  t: number,
): GrpcFrame {
  const f: GrpcFrame = { t, compressed, size, data, truncated: false };
  if (!compressed) return f;
  const enc = (encoding ?? '').trim().toLowerCase();
  try {
    if (enc === 'gzip') f.data = gunzipSync(data, { maxOutputLength: maxMessage });
    else if (enc === 'deflate') f.data = inflateSync(data, { maxOutputLength: maxMessage });
    else f.rawEncoding = enc || 'unknown';
  } catch (err) {
    f.rawEncoding = enc;
    f.error = `could not decompress (${enc}): ${err instanceof Error ? err.message : String(err)}`;
  }
  return f;
}
