/**
 * A received body as the recording format keeps it: decoded from gzip/deflate/br (as the
 * capture side records it, so the analyzer compares like with like), cut at the body limit
 * with `truncated` set. A compressed body that was itself cut, or fails to decode, is kept
 * as received.
 */
import zlib from 'node:zlib';
import { encodeBody } from '../model/body.js';
import type { Body } from '../model/traffic.js';
import type { ReceivedResponse } from './connection.js';

/** Bound on decoded bytes, so a compression bomb costs at most this much memory, once. */
const MAX_DECODED_BYTES = 16 * 1024 * 1024;

const DECODERS = {
  gzip: (b: Buffer) => zlib.gunzipSync(b, { maxOutputLength: MAX_DECODED_BYTES }),
  'x-gzip': (b: Buffer) => zlib.gunzipSync(b, { maxOutputLength: MAX_DECODED_BYTES }),
  deflate: (b: Buffer) => zlib.inflateSync(b, { maxOutputLength: MAX_DECODED_BYTES }),
  br: (b: Buffer) => zlib.brotliDecompressSync(b, { maxOutputLength: MAX_DECODED_BYTES }),
} as const;

type Coding = keyof typeof DECODERS;

export function responseBody(r: ReceivedResponse, maxBytes: number): Body | undefined {
  if (r.size === 0) return undefined;
  const bytes = r.chunks.length === 1 ? r.chunks[0] : Buffer.concat(r.chunks, r.kept);
  const coding = r.contentEncoding as Coding | undefined;
  if (coding && coding in DECODERS && r.kept === r.size) {
    try {
      const decoded = DECODERS[coding](bytes);
      return {
        ...encodeBody(decoded, decoded.length, maxBytes),
        decodedFrom: coding === 'x-gzip' ? 'gzip' : coding,
      };
    } catch {
      // Not what the header says: keep the bytes as they came.
    }
  }
  return encodeBody(bytes, r.size, maxBytes);
}
