/** A recorded request while the plan is built: what transforms edit before it is frozen into bytes. */
import type { Text } from './text.js';

export interface DraftRequest {
  readonly pairId: string;
  /** Epoch ms of the recorded request. */
  readonly startedAtMs: number;
  method: string;
  /** Percent-encoded path, without the query. */
  path: Text;
  /** Decoded query pairs, encoded when the request is sent. */
  query: [Text, Text][];
  /** Sent in this order; hop-by-hop headers, host and content-length are already gone. */
  headers: [string, Text][];
  /** The Host header value. */
  host: string;
  /** Text when the recorded body was UTF-8, else bytes. */
  body: Text | Buffer;
}

/** Lowercased content-type of the draft, '' when absent. */
export function contentType(draft: DraftRequest): string {
  for (const [n, v] of draft.headers)
    if (n.toLowerCase() === 'content-type' && typeof v === 'string') return v.toLowerCase();
  return '';
}

/** Whether any part of the draft is filled in at send time. */
export function isDynamic(draft: DraftRequest): boolean {
  const dyn = (t: Text) => typeof t !== 'string';
  return (
    dyn(draft.path) ||
    draft.query.some(([k, v]) => dyn(k) || dyn(v)) ||
    draft.headers.some(([, v]) => dyn(v)) ||
    (!Buffer.isBuffer(draft.body) && dyn(draft.body))
  );
}
