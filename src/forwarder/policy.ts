/**
 * The filter and masker a recording applies, compiled once per distinct rule set and shared:
 * recordings opened without their own rules use the forwarder's, and a pair routed to several
 * recordings with the same masker is masked once.
 */
import { createMasker, type DlpRules, type Masker } from '../dlp/index.js';
import { compileFilter, effectiveFilterRules, type FilterRules, type PairFilter } from '../filters/index.js';

export interface Policy {
  /** Equal for equal rule sets: what an ingest lane knows the policy by. */
  key: string;
  filter: PairFilter;
  /** Absent when DLP is off. */
  masker?: Masker;
  /** As recorded in the manifest: filters with defaults spelled out; `false` = no DLP. */
  filterRules: FilterRules;
  dlpRules: DlpRules | false;
}

export class PolicyCache {
  private readonly policies = new Map<string, Policy>();
  private readonly maskers = new Map<string, Masker>();

  constructor(private readonly dlpKey: Buffer) {}

  get(filters: FilterRules, dlp: DlpRules | false): Policy {
    const filterRules = effectiveFilterRules(filters);
    const key = JSON.stringify([filterRules, dlp]);
    let p = this.policies.get(key);
    if (!p) {
      p = {
        key,
        filter: compileFilter(filterRules),
        masker: dlp ? this.masker(dlp) : undefined,
        filterRules,
        dlpRules: dlp,
      };
      this.policies.set(key, p);
    }
    return p;
  }

  private masker(rules: DlpRules): Masker {
    const key = JSON.stringify(rules);
    let m = this.maskers.get(key);
    if (!m) this.maskers.set(key, (m = createMasker(rules, this.dlpKey)));
    return m;
  }

  /** Bodies left unscanned (binary) so far by every masker. */
  unscannedTotal(): number {
    let n = 0;
    for (const m of this.maskers.values()) n += m.unscanned();
    return n;
  }

  /** Values masked so far by every masker, per kind. */
  maskedTotals(): Record<string, number> {
    const totals: Record<string, number> = {};
    for (const m of this.maskers.values()) addCounts(totals, m.stats());
    return totals;
  }
}

/** Adds `more`'s counts into `into`, kind by kind (masked values from several maskers or threads). */
export function addCounts(
  into: Record<string, number>,
  more: Record<string, number>,
): Record<string, number> {
  for (const [kind, n] of Object.entries(more)) into[kind] = (into[kind] ?? 0) + n;
  return into;
}
