/**
 * One tap batch through everything that does not need the recordings: decoded (the sidecar's
 * session), gRPC fields named, then per policy of the recordings it is routed to filtered,
 * masked and encoded into NDJSON lines with a tally of what they hold. The forwarder's main
 * thread only stores the lines and counts the outcomes (BatchIngest.applyLane), so this runs
 * on ingest threads (lanes.ts) or, with none, inline. Pairs are encoded one by one: a batch's
 * pairs never all live at once, only its lines do.
 */
import type { DlpRules, Masker } from '../dlp/index.js';
import type { FilterRules } from '../filters/index.js';
import type { RRPair } from '../model/traffic.js';
import { grpcRecord } from '../protocols/grpc/recorded-format.js';
import { TapFormatError } from '../protocols/capture/frames.js';
import { SnapshotTally, type TallySummary } from '../store/tally.js';
import type { GrpcSchemas } from './grpc-schemas.js';
import type { Policy, PolicyCache } from './policy.js';
import type { TapSessions } from './tap-sessions.js';

/** A policy as a lane knows it: its key, and its rules the first time the lane sees it. */
export interface LanePolicy {
  key: string;
  rules?: { filters: FilterRules; dlp: DlpRules | false };
}

export interface LaneBatch {
  sidecarId: string;
  seq: number;
  service: string;
  maxBody: number;
  body: Uint8Array;
  /** The distinct policies of the recordings the batch is routed to. */
  policies: LanePolicy[];
}

/** The lines one policy keeps of a batch. */
export interface LaneOutput {
  lines: Uint8Array;
  tally: TallySummary;
  filtered: number;
}

export type LaneResult =
  | { kind: 'format-error'; message: string }
  | { kind: 'duplicate' }
  | {
      kind: 'decoded';
      /** The batch's items in order: PAIR, or REFUSED (an exchange that could not be read). */
      items: Uint8Array;
      refused: string[];
      /** Pair i kept by policy j: `kept[i * policies + j] === 1` (else filtered). */
      kept: Uint8Array;
      outputs: LaneOutput[];
      lostStreams: number;
      unknownFrames: number;
    };

const PAIR = 0;
export const REFUSED = 1;

/** The tap batch a lane takes over, and the policies (by key) it is given them by. */
export class LaneIngest {
  /** Policies by the key the forwarder's main thread knows them by. */
  private readonly byKey = new Map<string, Policy>();
  /** One buffer per output, kept from batch to batch: a batch's lines are copied out once. */
  private readonly scratch: Scratch[] = [];

  constructor(
    private readonly sessions: TapSessions,
    private readonly policies: PolicyCache,
    private readonly schemas: GrpcSchemas,
  ) {}

  async run(batch: LaneBatch): Promise<LaneResult> {
    const policies = batch.policies.map((p) => this.policy(p));
    const body = Buffer.from(batch.body.buffer, batch.body.byteOffset, batch.body.byteLength);
    const session = this.sessions.get(batch.sidecarId);
    let decoded;
    try {
      decoded = session.stream(batch.seq, body, { service: batch.service, maxBody: batch.maxBody });
    } catch (err) {
      if (err instanceof TapFormatError) return { kind: 'format-error', message: err.message };
      throw err;
    }
    if (decoded.duplicate) return { kind: 'duplicate' };
    const outs = policies.map((_, i) => new PolicyLines((this.scratch[i] ??= new Scratch())));
    const items: number[] = [];
    const kept: number[] = [];
    let refused = 0;
    for (const { pair, grpc } of decoded.pairs) {
      for (; refused < decoded.rejected.length; refused++) items.push(REFUSED);
      if (grpc) pair.grpc = grpcRecord(await this.schemas.name(grpc.call, grpc.origin));
      items.push(PAIR);
      encodePair(pair, policies, outs, kept);
    }
    for (; refused < decoded.rejected.length; refused++) items.push(REFUSED);
    return {
      kind: 'decoded',
      items: Uint8Array.from(items),
      refused: decoded.rejected,
      kept: Uint8Array.from(kept),
      outputs: outs.map((o) => o.done()),
      lostStreams: decoded.lostStreams,
      unknownFrames: decoded.unknownFrames,
    };
  }

  private policy(p: LanePolicy): Policy {
    let policy = this.byKey.get(p.key);
    if (!policy) {
      if (!p.rules) throw new Error(`ingest lane: policy ${p.key} was never described to this lane`);
      policy = this.policies.get(p.rules.filters, p.rules.dlp);
      this.byKey.set(p.key, policy);
    }
    return policy;
  }
}

/**
 * Filters, masks and encodes one pair for each policy. Policies sharing a masker (the usual
 * case) share one masked copy and its line.
 */
function encodePair(pair: RRPair, policies: Policy[], outs: PolicyLines[], kept: number[]): void {
  let maskedBy: Masker | undefined | null = null;
  let line = '';
  let out: RRPair = pair;
  for (let i = 0; i < policies.length; i++) {
    const p = policies[i];
    if (!p.filter(pair)) {
      outs[i].filtered++;
      kept.push(0);
      continue;
    }
    if (p.masker !== maskedBy) {
      maskedBy = p.masker;
      out = p.masker ? p.masker(pair) : pair;
      line = JSON.stringify(out);
    }
    outs[i].add(out, line);
    kept.push(1);
  }
}

/** Where lines are encoded; grows by doubling and is reused for the next batch. */
class Scratch {
  buf = Buffer.allocUnsafeSlow(64 * 1024);

  /** Room for `extra` more bytes after `used`, keeping them. */
  ensure(used: number, extra: number): Buffer {
    if (used + extra > this.buf.length) {
      const bigger = Buffer.allocUnsafeSlow(Math.max(this.buf.length * 2, used + extra));
      this.buf.copy(bigger, 0, 0, used);
      this.buf = bigger;
    }
    return this.buf;
  }
}

/** One policy's lines of a batch and their tally; done() copies them out (their own memory, movable off a lane). */
class PolicyLines {
  private used = 0;
  private readonly tally = new SnapshotTally();
  filtered = 0;

  constructor(private readonly scratch: Scratch) {}

  add(pair: RRPair, line: string): void {
    // The most bytes the line can take: 3 per UTF-16 unit, and the newline.
    const buf = this.scratch.ensure(this.used, line.length * 3 + 1);
    const bytes = buf.write(line, this.used) + 1;
    buf[this.used + bytes - 1] = 0x0a;
    this.used += bytes;
    this.tally.add(pair, bytes);
  }

  done(): LaneOutput {
    const lines = new Uint8Array(this.used);
    lines.set(this.scratch.buf.subarray(0, this.used));
    return { lines, tally: this.tally.summary(), filtered: this.filtered };
  }
}
