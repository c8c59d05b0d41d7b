/** Reading recorded header lists (ordered [name, value] pairs, names in any case). */
import type { HeaderList } from './traffic.js';

/** The first value of the header named `lowerName` (given in lowercase), if any. */
export function headerValue(headers: HeaderList, lowerName: string): string | undefined {
  for (const [n, v] of headers) if (n.length === lowerName.length && n.toLowerCase() === lowerName) return v;
  return undefined;
}

/** Connection-level headers (RFC 9110 7.6.1): meaningful for one hop, never replayed or forwarded. */
export const HOP_BY_HOP_HEADERS: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);
