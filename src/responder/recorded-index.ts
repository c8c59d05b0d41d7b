/**
 * The recorded outbound pairs, keyed by signature. Lookup is one Map get, whatever the number of
 * pairs. The index is built by streaming the snapshot and answers from memory, so memory grows
 * with the recorded responses' size. It is held compact: a few objects per pair (an entry, its
 * key, and each reply as one JSON string until it is first served, then prepared once), because
 * with 100,000 pairs the collector's marking of a heap of small objects cost more per request
 * than the lookup itself (responder-100k-vs-10 in bench/README.md).
 */
import type { ResponderConfig } from '../config/replay.js';
import type { RRPair } from '../model/traffic.js';
import { prefixKey } from './body-key.js';
import { recordedReply, type RecordedReply, type ReplySource } from './recorded-reply.js';
import { composeSignature, signRecorded, type Signature, type SignatureRules } from './signature.js';

/** A recorded reply not yet served is kept as the JSON of its ReplySource. */
type HeldReply = RecordedReply | string;

/** One recorded signature and its replies; the Signature's parts are cut from the key when asked for. */
export class IndexEntry {
  /** How many times this signature has been answered. */
  served = 0;

  constructor(
    readonly key: string,
    /** Lengths of the method, the host and the target inside `key` (see composeSignature). */
    private readonly methodLength: number,
    private readonly hostLength: number,
    private readonly targetLength: number,
    /** In recorded order; one reply (the usual case) is held without an array. */
    public replies: HeldReply | HeldReply[],
  ) {}

  get signature(): Signature {
    const method = this.key.slice(0, this.methodLength);
    const restAt = this.methodLength + 1 + this.hostLength;
    const rest = this.key.slice(restAt);
    return {
      key: this.key,
      method,
      host: this.key.slice(this.methodLength + 1, restAt),
      target: rest.slice(0, this.targetLength),
      rest,
    };
  }
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
    if (pair.response?.status === 101) {
      this.summary.skipped.upgrade++; // a protocol upgrade has no reply to replay (recordedReply)
      return;
    }
    const reply = heldText(JSON.stringify(replySource(pair)));
    const signature = signRecorded(pair.request, this.options.rules);
    if (signature.prefixLength !== undefined) {
      this.prefixLengths.add(signature.prefixLength);
      this.summary.truncatedRequests++;
    }
    if (pair.response?.body?.truncated) this.summary.truncatedResponses++;
    const entry = this.entries.get(signature.key);
    if (!entry) {
      const { key, method, host, target } = signature;
      key.charCodeAt(0); // flattens the key: as built, a tree of its pieces holds three times the bytes
      this.entries.set(key, new IndexEntry(key, method.length, host.length, target.length, reply));
    } else if (Array.isArray(entry.replies)) entry.replies.push(reply);
    else entry.replies = [entry.replies, reply];
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
    const { replies } = entry;
    if (!Array.isArray(replies)) {
      if (typeof replies !== 'string') return replies;
      return (entry.replies = this.prepare(replies));
    }
    const n = replies.length;
    const i = entry.served;
    const at = i < n ? i : this.options.exhausted === 'cycle' ? i % n : n - 1;
    const held = replies[at];
    if (typeof held !== 'string') return held;
    return (replies[at] = this.prepare(held));
  }

  /** A held reply made ready to send, once (its source was checked when the index was built). */
  private prepare(held: string): RecordedReply {
    return recordedReply(JSON.parse(held) as ReplySource, this.options.latency)!;
  }

  *signatures(): Iterable<Signature> {
    for (const e of this.entries.values()) yield e.signature;
  }

  stats(): IndexSummary {
    return { ...this.summary, signatures: this.entries.size, skipped: { ...this.summary.skipped } };
  }
}

/** What recordedReply reads of a pair: the rest of it is let go once the pair is indexed. */
const replySource = (pair: RRPair): ReplySource => ({
  id: pair.id,
  durationMs: pair.durationMs,
  request: { method: pair.request.method },
  response: pair.response,
  error: pair.error,
});

/** A copy of JSON.stringify's result that holds about half the heap (its own string keeps spare room). */
const heldText = (json: string): string => Buffer.from(json, 'utf8').toString('utf8');

/** Streams the pairs into a new index. */
export async function buildIndex(
  pairs: AsyncIterable<RRPair> | Iterable<RRPair>,
  options: IndexOptions,
): Promise<RecordedIndex> {
  const index = new RecordedIndex(options);
  for await (const pair of pairs) index.add(pair);
  return index;
}
