/**
 * Reads the recorded inbound pairs once, as a stream, and keeps per pair only what the
 * comparison needs: status, the asserted headers, and the body as compact JSON text or a
 * hash. Noise is detected on the way (see noise.ts). Memory is bounded by a budget on the
 * JSON text kept; past it bodies are kept as hashes and a note says so.
 */
import { createHash } from 'node:crypto';
import { bodyBytes, bodyText } from '../model/body.js';
import type { Body, RRPair } from '../model/traffic.js';
import { bytesPreview, headerValue, sha256, type ExpectedBody } from './compare.js';
import { endpointKey } from './endpoint.js';
import { grpcBody } from './grpc-compare.js';
import { grpcOf } from '../protocols/grpc/recorded-pair.js';
import type { NoiseRegistry } from './noise.js';

export interface Expectation {
  endpoint: string;
  /** Null when the recording has no response. */
  status: number | null;
  /** Asserted headers present in the recorded response, by lower-case name (shared: read only). */
  headers: ReadonlyMap<string, string>;
  /** Null when bodies are not asserted. */
  body: ExpectedBody | null;
}

export interface IndexOptions {
  /** Response headers to keep (lower case). */
  headerNames: readonly string[];
  compareBodies: boolean;
  noise: NoiseRegistry;
  /** A JSON body longer than this (compact) is kept as a hash. */
  maxJsonChars: number;
  /** Total compact JSON text kept across all pairs. */
  budgetChars: number;
  now: number;
}

export interface RecordingIndex {
  byId: Map<string, Expectation>;
  /** Inbound pairs read. */
  pairs: number;
  /** Inbound pairs with a response whose status is below 500. */
  succeeded: number;
  notes: string[];
}

const isJsonType = (contentType: string | undefined) => !!contentType && /[/+]json\b/i.test(contentType);

function tryParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function hashed(body: Body): ExpectedBody {
  const bytes = bodyBytes(body);
  return {
    kind: 'bytes',
    sha256: sha256(bytes),
    length: bytes.length,
    truncated: body.truncated,
    preview: bytesPreview(bytes),
  };
}

/** A request's identity for "two recordings of the same request". */
function requestSignature(pair: RRPair): string {
  const q = pair.request.query.map(([k, v]) => `${k}=${v}`).join('&');
  return createHash('sha256')
    .update(`${pair.request.method} ${pair.request.path}?${q}\n`)
    .update(
      pair.request.body?.data ?? JSON.stringify(grpcOf(pair)?.request.map((m) => m.fields ?? m.raw) ?? ''),
    )
    .digest('base64');
}

/**
 * Shares equal strings (endpoint keys, header values) between pairs: a snapshot repeats a
 * few of them thousands of times. Bounded so a field of unique values cannot grow it.
 */
class Interner {
  private readonly seen = new Map<string, string>();
  private readonly maps = new Map<string, Map<string, string>>();
  constructor(private readonly max = 10_000) {}

  get(value: string): string {
    const known = this.seen.get(value);
    if (known !== undefined) return known;
    if (this.seen.size < this.max) this.seen.set(value, value);
    return value;
  }

  /** One shared (never mutated) Map per distinct set of asserted header values. */
  headers(entries: [string, string][]): Map<string, string> {
    const key = JSON.stringify(entries);
    const known = this.maps.get(key);
    if (known) return known;
    const map = new Map(entries);
    if (this.maps.size < this.max) this.maps.set(key, map);
    return map;
  }
}

class BodyKeeper {
  used = 0;
  overBudget = 0;
  constructor(private readonly opts: IndexOptions) {}

  /** The expected body, and the parsed JSON when there is one (for noise detection). */
  keep(
    body: Body | undefined,
    contentType: string | undefined,
  ): { expected: ExpectedBody; parsed?: unknown } {
    if (!body || body.size === 0) return { expected: { kind: 'none' } };
    if (body.truncated) return { expected: hashed(body) };
    const text = bodyText(body);
    const looksJson = isJsonType(contentType) || /^\s*[[{]/.test(text);
    const parsed = looksJson ? tryParse(text) : undefined;
    if (parsed === undefined) return { expected: hashed(body) };
    const compact = JSON.stringify(parsed);
    if (compact.length > this.opts.maxJsonChars || this.used + compact.length > this.opts.budgetChars) {
      this.overBudget++;
      return { expected: hashed(body), parsed };
    }
    this.used += compact.length;
    return { expected: { kind: 'json', text: compact }, parsed };
  }
}

export async function indexRecordings(
  recorded: AsyncIterable<RRPair>,
  opts: IndexOptions,
): Promise<RecordingIndex> {
  const byId = new Map<string, Expectation>();
  const firstBySignature = new Map<string, string>();
  const keeper = new BodyKeeper(opts);
  const strings = new Interner();
  let pairs = 0;
  let succeeded = 0;
  for await (const pair of recorded) {
    if (pair.direction !== 'inbound') continue;
    pairs++;
    const res = pair.response;
    if (res && res.status < 500) succeeded++;
    const entries: [string, string][] = [];
    for (const name of opts.headerNames) {
      const value = res && headerValue(res.headers, name);
      if (value !== undefined) entries.push([name, strings.get(value)]);
    }
    const headers = strings.headers(entries);
    // A gRPC call is compared in its JSON form (grpc-compare.ts).
    const grpc = grpcBody(grpcOf(pair));
    const kept =
      opts.compareBodies && res
        ? keeper.keep(grpc ?? res.body, grpc ? 'application/json' : headerValue(res.headers, 'content-type'))
        : undefined;
    const exp: Expectation = {
      endpoint: strings.get(endpointKey(pair.request.method, pair.request.path)),
      status: res?.status ?? null,
      headers,
      body: opts.compareBodies ? (kept?.expected ?? { kind: 'none' }) : null,
    };
    byId.set(pair.id, exp);
    if (!res || !opts.noise.enabled) continue;

    const capturedAt = Date.parse(pair.startedAt);
    opts.noise.scanRecording(
      exp.endpoint,
      kept?.parsed,
      headers,
      [capturedAt, opts.now].filter(Number.isFinite),
    );
    const signature = requestSignature(pair);
    const firstId = firstBySignature.get(signature);
    const first = firstId === undefined ? undefined : byId.get(firstId);
    if (!first) firstBySignature.set(signature, pair.id);
    else if (first.status !== null && sameKind(first.body, exp.body)) {
      opts.noise.compareRecordings(
        exp.endpoint,
        { body: noiseView(first.body), headers: first.headers },
        { body: noiseView(exp.body, kept?.parsed), headers },
      );
    }
  }
  const notes: string[] = [];
  if (keeper.overBudget > 0) {
    notes.push(
      `${keeper.overBudget} recorded JSON bodies were too large for the analyzer's memory budget and were compared by sha256 instead of key by key.`,
    );
  }
  return { byId, pairs, succeeded, notes };
}

const sameKind = (a: ExpectedBody | null, b: ExpectedBody | null) => (a?.kind ?? null) === (b?.kind ?? null);

/**
 * What two recordings' bodies are compared by: the parsed JSON, or the hash of a body kept
 * as bytes (so a body that differs as a whole becomes noise at `$`).
 */
function noiseView(body: ExpectedBody | null, parsed?: unknown): unknown {
  if (!body || body.kind === 'none') return null;
  if (body.kind === 'bytes') return `sha256:${body.sha256}`;
  return parsed !== undefined ? parsed : JSON.parse(body.text);
}
