/**
 * The recorded outbound pairs, keyed by signature. Lookup is one Map get, whatever the number of
 * pairs. The index is built by streaming the snapshot, but it keeps every prepared response
 * (headers and body bytes) in memory: answering from memory is the point, so memory grows with
 * the recorded responses' size (about the bodies' bytes plus a few hundred bytes per pair).
 */
import type { ResponderConfig } from '../config/replay.js';
import type { RRPair } from '../model/traffic.js';
import { prefixKey } from './body-key.js';
import { recordedReply, type RecordedReply } from './recorded-reply.js';
import { composeSignature, signRecorded, type Signature, type SignatureRules } from './signature.js';

export interface IndexEntry {
  readonly signature: Signature;
  /** In recorded order. */
  readonly replies: RecordedReply[];
  /** How many times this signature has been answered. */
  served: number;
}

export interface IndexSummary {
  /** Outbound pairs read from the recording. */
  outbound: number;
  signatures: number;
  responses: number;
  /** Pairs that cannot be replayed: CONNECT tunnels recorded opaque, protocol upgrades. */
  skipped: { connect: number; upgrade: number };
  /** Recorded request bodies cut by the recorder (matched by their kept prefix). */
  truncatedRequests: number;
  /** Recorded response bodies cut by the recorder (sent cut, flagged with x-reprise-truncated). */
  truncatedResponses: number;
}

export interface IndexOptions {
  rules: SignatureRules;
  exhausted: ResponderConfig['exhausted'];
  latency: ResponderConfig['latency'];
}

export class RecordedIndex {
  private readonly entries = new Map<string, IndexEntry>();
  /** Kept lengths of cut request bodies: a live body is also tried against these prefixes. */
  private readonly prefixLengths = new Set<number>();
  private readonly summary: IndexSummary = {
    outbound: 0,
    signatures: 0,
    responses: 0,
    skipped: { connect: 0, upgrade: 0 },
    truncatedRequests: 0,
    truncatedResponses: 0,
  };

  constructor(private readonly options: IndexOptions) {}

  /** Adds one recorded pair (inbound pairs are ignored); pairs must come in recorded order. */
  add(pair: RRPair): void {
    if (pair.direction !== 'outbound') return;
    this.summary.outbound++;
    if (pair.request.method.toUpperCase() === 'CONNECT') {
      this.summary.skipped.connect++;
      return;
    }
    const reply = recordedReply(pair, this.options.latency);
    if (!reply) {
      this.summary.skipped.upgrade++;
      return;
    }
    const signature = signRecorded(pair.request, this.options.rules);
    if (signature.prefixLength !== undefined) {
      this.prefixLengths.add(signature.prefixLength);
      this.summary.truncatedRequests++;
    }
    if (pair.response?.body?.truncated) this.summary.truncatedResponses++;
    const entry = this.entries.get(signature.key);
    if (entry) entry.replies.push(reply);
    else this.entries.set(signature.key, { signature, replies: [reply], served: 0 });
    this.summary.responses++;
  }

  /** The entry for a live request's signature; `body` (identity bytes) for cut recorded bodies. */
  find(signature: Signature, body?: Buffer): IndexEntry | undefined {
    const exact = this.entries.get(signature.key);
    if (exact || !body || this.prefixLengths.size === 0) return exact;
    for (const length of this.prefixLengths) {
      if (body.length <= length) continue;
      const key = composeSignature(
        signature.method,
        signature.host,
        signature.target,
        prefixKey(body.subarray(0, length)),
      ).key;
      const entry = this.entries.get(key);
      if (entry) return entry;
    }
    return undefined;
  }

  /** The next reply for the entry: recorded order, then the last again or from the start. */
  next(entry: IndexEntry): RecordedReply {
    const reply = this.peek(entry);
    entry.served++;
    return reply;
  }

  /** The reply `next` would give, without using it up. */
  peek(entry: IndexEntry): RecordedReply {
    const n = entry.replies.length;
    const i = entry.served;
    if (i < n) return entry.replies[i];
    return entry.replies[this.options.exhausted === 'cycle' ? i % n : n - 1];
  }

  *signatures(): Iterable<Signature> {
    for (const e of this.entries.values()) yield e.signature;
  }

  stats(): IndexSummary {
    return { ...this.summary, signatures: this.entries.size, skipped: { ...this.summary.skipped } };
  }
}

/** Streams the pairs into a new index. */
export async function buildIndex(
  pairs: AsyncIterable<RRPair> | Iterable<RRPair>,
  options: IndexOptions,
): Promise<RecordedIndex> {
  const index = new RecordedIndex(options);
  for await (const pair of pairs) index.add(pair);
  return index;
}
