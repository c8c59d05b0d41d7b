/**
 * What the responder sends for one recorded outbound pair, prepared once when the index is
 * built so that answering is a lookup. Every reply is framed: content-length always matches
 * the bytes sent, because a reply without it leaves clients such as autocannon waiting.
 */
import { validateHeaderName, validateHeaderValue } from 'node:http';
import type { ResponderConfig } from '../config/replay.js';
import { bodyBytes } from '../model/body.js';
import type { HeaderList, RRPair } from '../model/traffic.js';
import { HOP_BY_HOP_HEADERS } from '../model/headers.js';

export const MATCH_HEADER = 'x-reprise-match';
/** Set on a reply whose recorded body was cut at the recorder's limit: the original size in bytes. */
export const TRUNCATED_HEADER = 'x-reprise-truncated';

/** The shape mockttp's callback steps take, with headers named in lowercase. */
export interface PreparedResponse {
  statusCode: number;
  statusMessage?: string;
  headers: Record<string, string | string[]>;
  rawBody: Buffer;
}

export type RecordedReply =
  | { kind: 'respond'; pairId: string; delayMs: number; response: PreparedResponse }
  /** The recorded call got no response: the connection is closed (or reset) the same way. */
  | { kind: 'close' | 'reset'; pairId: string; delayMs: number };

/** The parts of a recorded pair a reply is made from. */
export type ReplySource = Pick<RRPair, 'id' | 'durationMs' | 'response' | 'error'> & {
  request: Pick<RRPair['request'], 'method'>;
};

export function delayFor(pair: Pick<RRPair, 'durationMs'>, latency: ResponderConfig['latency']): number {
  if (latency === 'none') return 0;
  if (latency === 'recorded') return pair.durationMs;
  return latency.fixedMs;
}

/** The reply for an outbound pair, or undefined when it cannot be replayed (protocol upgrades). */
export function recordedReply(
  pair: ReplySource,
  latency: ResponderConfig['latency'],
): RecordedReply | undefined {
  const delayMs = delayFor(pair, latency);
  const res = pair.response;
  if (!res) {
    const kind = /RESET/i.test(pair.error?.code ?? '') ? 'reset' : 'close';
    return { kind, pairId: pair.id, delayMs };
  }
  if (res.status === 101) return undefined;
  const body = bodyBytes(res.body);
  const headers = replayHeaders(res.headers, {
    // The recorder stored the decoded bytes: send them as identity rather than re-encoding.
    dropContentEncoding: res.body?.decodedFrom !== undefined,
  });
  const bodyless = pair.request.method.toUpperCase() === 'HEAD' || res.status === 304;
  if (res.status === 204 || (res.status >= 100 && res.status < 200)) {
    delete headers['content-length']; // these statuses have no body and must not announce one
  } else if (!bodyless || headers['content-length'] === undefined) {
    // HEAD and 304 keep the recorded length: it describes the representation, not these bytes.
    headers['content-length'] = String(body.length);
  }
  if (res.body?.truncated) headers[TRUNCATED_HEADER] = String(res.body.size);
  headers[MATCH_HEADER] = 'MATCH';
  return {
    kind: 'respond',
    pairId: pair.id,
    delayMs,
    response: {
      statusCode: res.status,
      statusMessage: res.statusText,
      headers,
      rawBody: bodyless ? EMPTY : body,
    },
  };
}

const EMPTY = Buffer.alloc(0);

/** Pseudo-headers (from h2 or HAR) and values Node refuses would fail the reply at replay time. */
function sendable(name: string, value: string): boolean {
  try {
    validateHeaderName(name);
    validateHeaderValue(name, value);
    return true;
  } catch {
    return false;
  }
}

function replayHeaders(
  list: HeaderList,
  opts: { dropContentEncoding: boolean },
): PreparedResponse['headers'] {
  const dropped = new Set(HOP_BY_HOP_HEADERS);
  dropped.add(MATCH_HEADER);
  dropped.add(TRUNCATED_HEADER);
  if (opts.dropContentEncoding) dropped.add('content-encoding');
  for (const [name, value] of list) {
    // `Connection: x-foo` makes x-foo hop-by-hop too.
    if (name.toLowerCase() === 'connection')
      for (const n of value.split(',')) dropped.add(n.trim().toLowerCase());
  }
  const out: PreparedResponse['headers'] = {};
  let contentLength: string | undefined;
  for (const [rawName, value] of list) {
    const name = rawName.toLowerCase();
    if (name === 'content-length') contentLength ??= value.trim();
    if (dropped.has(name) || name === 'content-length' || !sendable(name, value)) continue;
    const prev = out[name];
    out[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  // Only kept for HEAD/304 by the caller; recomputed from the body otherwise.
  if (contentLength !== undefined && /^\d+$/.test(contentLength)) out['content-length'] = contentLength;
  return out;
}
