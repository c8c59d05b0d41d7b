/** Turns FilterRules into one keep/drop decision per pair, compiled once per rule set. */
import type { RRPair } from '../model/traffic.js';
import { effectiveFilterRules } from './defaults.js';
import { compileAny } from './match.js';
import { FilterRules, type FilterRulesInput } from './rules.js';

/** True = keep the pair. */
export type PairFilter = (pair: RRPair) => boolean;

/** FNV-1a of the pair id mapped to [0, 1): the same pair always gets the same sampling decision. */
function sampleFraction(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return (h >>> 0) / 0x1_0000_0000;
}

/** Accepts parsed rules or raw data (validated here: a bad rule throws a ZodError naming its path). */
export function compileFilter(rules: FilterRules | FilterRulesInput = {}): PairFilter {
  const r = effectiveFilterRules(FilterRules.parse(rules));
  const excluded = compileAny(r.exclude);
  const included = r.include.length ? compileAny(r.include) : () => true;
  const rate = r.sampleRate;
  if (rate >= 1) return (pair) => !excluded(pair) && included(pair);
  return (pair) => !excluded(pair) && included(pair) && sampleFraction(pair.id) < rate;
}
