/** Turning raw bytes into a recorded Body, and back. */
import { isUtf8 } from 'node:buffer';
import type { Body } from './traffic.js';

/**
 * Records `bytes` (the first bytes of a body that was `size` bytes on the wire) as text when
 * it is UTF-8 without NULs, else as base64. Past `maxBytes` the body is cut and marked.
 */
export function encodeBody(bytes: Buffer, size: number = bytes.length, maxBytes = Infinity): Body {
  let kept = bytes.length > maxBytes ? bytes.subarray(0, maxBytes) : bytes;
  // A cut body may end inside a multi-byte character: drop that partial character.
  if (kept.length < size) kept = trimPartialChar(kept);
  const truncated = kept.length < size;
  if (isUtf8(kept) && !kept.includes(0)) {
    return { encoding: 'utf8', data: kept.toString('utf8'), size, truncated };
  }
  return { encoding: 'base64', data: kept.toString('base64'), size, truncated };
}

export function bodyBytes(body: Body | undefined): Buffer {
  if (!body) return Buffer.alloc(0);
  return Buffer.from(body.data, body.encoding === 'base64' ? 'base64' : 'utf8');
}

export function bodyText(body: Body | undefined): string {
  if (!body) return '';
  return body.encoding === 'utf8' ? body.data : Buffer.from(body.data, 'base64').toString('utf8');
}

function trimPartialChar(bytes: Buffer): Buffer {
  const end = bytes.length;
  for (let i = 1; i <= 3 && end - i >= 0; i++) {
    const b = bytes[end - i];
    if ((b & 0xc0) === 0x80) continue; // continuation byte: keep walking back
    if (b >= 0xc0) {
      const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
      return i < need ? bytes.subarray(0, end - i) : bytes;
    }
    break;
  }
  return bytes;
}
