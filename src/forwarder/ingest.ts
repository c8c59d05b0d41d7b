/**
 * One batch: each pair (an NDJSON line, validated) is routed to the open recordings of its
 * service, filtered, masked and appended, in that order; a tap batch arrives from its ingest
 * lane filtered, masked and encoded, and is stored and counted here. A bad line is counted and
 * reported, never fatal to the batch.
 */
import type { Masker } from '../dlp/index.js';
import type { RRPair } from '../model/traffic.js';
import type { ForwarderMetrics } from './metrics.js';
import type { Recording } from './recording.js';
import type { Recordings } from './recordings.js';
import { REFUSED, type LaneOutput, type LaneResult } from './lane-ingest.js';
import { patchLine } from './line-patch.js';
import { checkPair } from './validate.js';

export interface BatchResult {
  accepted: number;
  filtered: number;
  rejected: number;
  unrouted: number;
  /** The first few reasons lines were rejected, with their line numbers. */
  errors?: string[];
}

const MAX_REPORTED_ERRORS = 10;

type DecodedLane = Extract<LaneResult, { kind: 'decoded' }>;

export interface IngestContext {
  recordings: Recordings;
  metrics: ForwarderMetrics;
  /** The sidecar's service (`x-reprise-service`): rejected lines count as its recordings' drops. */
  service?: string;
  onAppendError(err: unknown, recording: Recording): void;
}

/** A parsed line; `line` is set when its text stands for the pair as it is (see checkPair). */
interface Parsed {
  pair: RRPair;
  line?: string;
}

function parseLine(line: string): Parsed | string {
  let data: unknown;
  try {
    data = JSON.parse(line);
  } catch (err) {
    return `invalid JSON: ${(err as Error).message}`;
  }
  const checked = checkPair(data);
  if (typeof checked === 'string') return checked;
  return checked.exact ? { pair: checked.pair, line } : { pair: checked.pair };
}

/** What happened to one pair across the recordings it was routed to. */
interface Outcome {
  kept: number;
  failed: number;
  filtered: number;
  /** Recordings sharing a masker (the usual case) get the same masked copy. */
  maskedBy?: Masker;
  masked?: RRPair;
  /** The masked copy's line, patched from the ingested one (undefined: serialise it). */
  maskedLine?: string;
}

/**
 * Synchronous while the store takes pairs at once: a batch costs no microtask per pair. Only
 * when a writer pushes back does the batch await it, and only then does it read on.
 */
export class BatchIngest {
  readonly result: BatchResult = { accepted: 0, filtered: 0, rejected: 0, unrouted: 0 };
  private lineNo = 0;

  constructor(private readonly ctx: IngestContext) {}

  async lines(lines: string[]): Promise<void> {
    for (const line of lines) {
      this.lineNo++;
      if (isBlank(line)) continue;
      const parsed = parseLine(line);
      if (typeof parsed === 'string') this.reject(parsed);
      else {
        const pending = this.pair(parsed);
        if (pending) await pending;
      }
    }
  }

  /**
   * A tap batch an ingest lane decoded and encoded (lane-ingest.ts): each recording it was
   * routed to (held since) stores the lines of its policy, then the batch's items are counted
   * in order, each pair as one sent on its own would be.
   */
  async applyLane(lane: DecodedLane, targets: Recording[], policyOf: number[]): Promise<void> {
    const stored: boolean[] = [];
    for (let t = 0; t < targets.length; t++) {
      const out = lane.outputs[policyOf[t]];
      targets[t].filtered += out.filtered;
      stored.push(await this.storeLines(targets[t], out));
    }
    const policies = lane.outputs.length;
    let pair = 0;
    let refused = 0;
    for (const item of lane.items) {
      this.lineNo++;
      if (item === REFUSED) {
        this.reject(lane.refused[refused++]);
        continue;
      }
      const o: Outcome = { kept: 0, failed: 0, filtered: 0 };
      for (let t = 0; t < targets.length; t++) {
        if (lane.kept[pair * policies + policyOf[t]] === 0) o.filtered++;
        else if (stored[t]) o.kept++;
        else {
          o.failed++;
          targets[t].forwarderDropped++;
          this.ctx.metrics.appendErrors++;
        }
      }
      pair++;
      this.conclude(o);
    }
  }

  /** False when the store refused them (logged once for the batch). */
  private async storeLines(rec: Recording, out: LaneOutput): Promise<boolean> {
    if (out.lines.byteLength === 0) return true;
    const lines = Buffer.from(out.lines.buffer, out.lines.byteOffset, out.lines.byteLength);
    try {
      const pending = rec.appendLines(lines, out.tally);
      if (pending) await pending;
      return true;
    } catch (err) {
      this.ctx.onAppendError(err, rec);
      return false;
    }
  }

  private pair(parsed: Parsed): Promise<void> | undefined {
    const targets = this.ctx.recordings.route(parsed.pair.service);
    if (targets.length === 0) return this.count('unrouted');
    const o: Outcome = { kept: 0, failed: 0, filtered: 0 };
    for (let i = 0; i < targets.length; i++) {
      const pending = this.offer(targets[i], parsed, o);
      if (pending) return this.finish(pending, targets, i + 1, parsed, o);
    }
    this.conclude(o);
  }

  /** The rest of pair() once a writer pushed back: one recording at a time, in order. */
  private async finish(
    pending: Promise<void>,
    targets: Recording[],
    from: number,
    parsed: Parsed,
    o: Outcome,
  ): Promise<void> {
    await pending;
    for (let i = from; i < targets.length; i++) await this.offer(targets[i], parsed, o);
    this.conclude(o);
  }

  /** Filters, masks and appends the pair to one recording; a promise only when it must wait. */
  private offer(rec: Recording, { pair, line }: Parsed, o: Outcome): Promise<void> | undefined {
    // Sealed or aborted while this batch waited on an earlier append.
    if (rec.state !== 'open') return;
    if (!rec.policy.filter(pair)) {
      rec.filtered++;
      o.filtered++;
      return;
    }
    const masker = rec.policy.masker;
    if (masker && masker !== o.maskedBy) {
      o.masked = masker(pair);
      o.maskedBy = masker;
      o.maskedLine = line !== undefined && o.masked !== pair ? patchLine(line, pair, o.masked) : undefined;
    }
    const out = masker ? o.masked! : pair;
    let pending: Promise<void> | undefined;
    try {
      // Nothing masked: the ingested line is stored as it came, not serialised again.
      pending = rec.append(out, out === pair ? line : o.maskedLine);
    } catch (err) {
      return this.failed(err, rec, o);
    }
    if (!pending) {
      o.kept++;
      return;
    }
    return pending.then(
      () => void o.kept++,
      (err: unknown) => this.failed(err, rec, o),
    );
  }

  private failed(err: unknown, rec: Recording, o: Outcome): undefined {
    o.failed++;
    rec.forwarderDropped++;
    this.ctx.metrics.appendErrors++;
    this.ctx.onAppendError(err, rec);
    return undefined;
  }

  private conclude(o: Outcome): void {
    if (o.kept) this.count('accepted');
    else if (o.failed) this.reject(`line ${this.lineNo}: the store did not take the pair`, false);
    else if (o.filtered) this.count('filtered');
    else this.count('unrouted');
  }

  private reject(reason: string, countForSidecar = true): void {
    this.count('rejected');
    const errors = (this.result.errors ??= []);
    if (errors.length < MAX_REPORTED_ERRORS)
      errors.push(reason.startsWith('line ') ? reason : `line ${this.lineNo}: ${reason}`);
    if (countForSidecar)
      for (const rec of this.ctx.recordings.route(this.ctx.service ?? '')) rec.forwarderDropped++;
  }

  private count(outcome: 'accepted' | 'filtered' | 'rejected' | 'unrouted'): undefined {
    this.result[outcome]++;
    this.ctx.metrics.pairs[outcome]++;
    return undefined;
  }
}

/** Blank lines (between batches, at the end) are skipped; a pair's line starts with `{`. */
const isBlank = (line: string): boolean => line.charCodeAt(0) !== 123 && line.trim() === '';
