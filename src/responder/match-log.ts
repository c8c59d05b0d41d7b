/**
 * How each request was answered: counts per MatchStatus and the requests that were not matched.
 * The list keeps the first `maxMisses` (the earliest misses usually explain the rest) and only
 * counts the others, so a flood of misses cannot grow memory.
 */
import type { MatchStatus, ResponderRequestRecord, ResponderStats } from '../model/replay.js';

export const DEFAULT_MAX_MISSES = 1000;

export class MatchLog {
  private match = 0;
  private noMatch = 0;
  private passthrough = 0;
  private readonly misses: ResponderRequestRecord[] = [];
  private missesDropped = 0;
  /** Distinct missed signatures seen (bounded like the list): the first of each is logged loudly. */
  private readonly distinct = new Set<string>();

  constructor(private readonly maxMisses = DEFAULT_MAX_MISSES) {}

  matched(): void {
    this.match++;
  }

  /** Records a request that was not matched; true the first time its signature misses. */
  missed(record: Omit<ResponderRequestRecord, 'at'> & { status: Exclude<MatchStatus, 'MATCH'> }): boolean {
    if (record.status === 'NO_MATCH') this.noMatch++;
    else this.passthrough++;
    if (this.misses.length < this.maxMisses) this.misses.push({ ...record, at: new Date().toISOString() });
    else this.missesDropped++;
    if (this.distinct.has(record.signature) || this.distinct.size >= this.maxMisses) return false;
    this.distinct.add(record.signature);
    return true;
  }

  stats(): ResponderStats {
    return {
      match: this.match,
      noMatch: this.noMatch,
      passthrough: this.passthrough,
      misses: this.misses.map((m) => ({ ...m })),
      missesDropped: this.missesDropped,
    };
  }
}
