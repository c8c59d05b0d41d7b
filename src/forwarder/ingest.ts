/**
 * One NDJSON batch: each line is validated, routed to the open recordings of its service,
 * filtered, masked and appended, in that order. A bad line is counted and reported, never
 * fatal to the batch.
 */
import type { Masker } from '../dlp/index.js';
import type { RRPair } from '../model/traffic.js';
import type { ForwarderMetrics } from './metrics.js';
import type { Recording } from './recording.js';
import type { Recordings } from './recordings.js';
import { validatePair } from './validate.js';

export interface BatchResult {
  accepted: number;
  filtered: number;
  rejected: number;
  unrouted: number;
  /** The first few reasons lines were rejected, with their line numbers. */
  errors?: string[];
}

const MAX_REPORTED_ERRORS = 10;

export interface IngestContext {
  recordings: Recordings;
  metrics: ForwarderMetrics;
  /** The sidecar's service (`x-reprise-service`): rejected lines count as its recordings' drops. */
  service?: string;
  onAppendError(err: unknown, recording: Recording): void;
}

function parseLine(line: string): RRPair | string {
  let data: unknown;
  try {
    data = JSON.parse(line);
  } catch (err) {
    return `invalid JSON: ${(err as Error).message}`;
  }
  return validatePair(data);
}

export class BatchIngest {
  readonly result: BatchResult = { accepted: 0, filtered: 0, rejected: 0, unrouted: 0 };
  private lineNo = 0;

  constructor(private readonly ctx: IngestContext) {}

  async lines(lines: string[]): Promise<void> {
    for (const line of lines) {
      this.lineNo++;
      if (line.trim() === '') continue;
      const pair = parseLine(line);
      if (typeof pair === 'string') this.reject(pair);
      else await this.pair(pair);
    }
  }

  private async pair(pair: RRPair): Promise<void> {
    const targets = this.ctx.recordings.route(pair.service);
    if (targets.length === 0) return this.count('unrouted');
    let kept = 0;
    let failed = 0;
    let filtered = 0;
    // Recordings sharing a masker (the usual case) get the same masked copy.
    let maskedBy: Masker | undefined;
    let masked = pair;
    for (const rec of targets) {
      // Sealed or aborted while this batch waited on an earlier append.
      if (rec.state !== 'open') continue;
      if (!rec.policy.filter(pair)) {
        rec.filtered++;
        filtered++;
        continue;
      }
      const masker = rec.policy.masker;
      if (masker && masker !== maskedBy) {
        masked = masker(pair);
        maskedBy = masker;
      }
      try {
        await rec.append(masker ? masked : pair);
        kept++;
      } catch (err) {
        failed++;
        rec.forwarderDropped++;
        this.ctx.metrics.appendErrors++;
        this.ctx.onAppendError(err, rec);
      }
    }
    if (kept) this.count('accepted');
    else if (failed) this.reject(`line ${this.lineNo}: the store did not take the pair`, false);
    else if (filtered) this.count('filtered');
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

  private count(outcome: 'accepted' | 'filtered' | 'rejected' | 'unrouted'): void {
    this.result[outcome]++;
    this.ctx.metrics.pairs[outcome]++;
  }
}
