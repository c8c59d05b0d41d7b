/**
 * Message bodies: as they stream past (CappedBody keeps the first `max` bytes as references to
 * the read chunks, not copies, and counts the true size, so a connection's memory stays bounded
 * by the body limit), and as they are recorded (recordBody: decoded from gzip/deflate/br when
 * complete, so that DLP masking and matching see the text).
 */
import { brotliDecompressSync, gunzipSync, inflateRawSync, inflateSync } from 'node:zlib';
import { encodeBody } from '../../model/body.js';
import { headerValue } from '../../model/headers.js';
import type { Body, HeaderList } from '../../model/traffic.js';

export class CappedBody {
  readonly parts: Buffer[] = [];
  /** Bytes kept (at most `max`). */
  kept = 0;
  /** Bytes seen on the wire (after chunked framing is removed). */
  size = 0;

  constructor(private readonly max: number) {}

  add(bytes: Buffer): void {
    this.size += bytes.length;
    const room = this.max - this.kept;
    if (room <= 0) return;
    const part = bytes.length <= room ? bytes : bytes.subarray(0, room);
    this.parts.push(part);
    this.kept += part.length;
  }

  get truncated(): boolean {
    return this.kept < this.size;
  }

  bytes(): Buffer {
    return this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts, this.kept);
  }
}

const DECODERS: Record<string, [NonNullable<Body['decodedFrom']>, (b: Buffer, max: number) => Buffer]> = {
  gzip: ['gzip', (b, max) => gunzipSync(b, { maxOutputLength: max })],
  'x-gzip': ['gzip', (b, max) => gunzipSync(b, { maxOutputLength: max })],
  deflate: ['deflate', inflateEither],
  br: ['br', (b, max) => brotliDecompressSync(b, { maxOutputLength: max })],
};

/** `deflate` is zlib-wrapped by the RFC but raw in some servers. */
function inflateEither(b: Buffer, max: number): Buffer {
  try {
    return inflateSync(b, { maxOutputLength: max });
  } catch (err) {
    if (err instanceof RangeError) throw err;
    return inflateRawSync(b, { maxOutputLength: max });
  }
}

/**
 * The recorded Body for a captured one (its first bytes and its size on the wire; undefined
 * when empty), `headers` being its message's headers.
 */
export function recordBody(
  body: { bytes: Buffer; size: number },
  headers: HeaderList,
  max: number,
): Body | undefined {
  if (body.size === 0) return undefined;
  const bytes = body.bytes;
  const truncated = bytes.length < body.size;
  const coding = truncated ? undefined : headerValue(headers, 'content-encoding')?.trim().toLowerCase();
  const decoder = coding ? DECODERS[coding] : undefined;
  if (decoder) {
    try {
      const decoded = decoder[1](bytes, Math.max(max, 1));
      // `size` stays the wire size (see Body); the decoded bytes are whole, so not truncated.
      return { ...encodeBody(decoded), size: body.size, decodedFrom: decoder[0] };
    } catch {
      // Corrupt, or larger than the limit once decoded: keep the encoded bytes.
    }
  }
  return encodeBody(bytes, body.size, max);
}
