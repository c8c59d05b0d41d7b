/**
 * Goals and the verdict. With no goal set, two defaults apply: every assertion passes
 * (assertionPassRate >= 100) and the success rate is no worse than the recording's own
 * (successRate >= the % of recorded inbound pairs that had a non-5xx response, 100 for a
 * clean recording): a faithfully reproduced recorded 500 is not a regression.
 */
import type { Goals } from '../config/replay.js';
import type { GoalName, GoalResult, ReplayMode, Verdict } from '../report/schema.js';

export interface GoalActuals {
  successRate: number | null;
  assertionPassRate: number | null;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  rps: number | null;
}

const SHAPE: Record<GoalName, Pick<GoalResult, 'comparator' | 'unit'> & { actual: keyof GoalActuals }> = {
  successRate: { comparator: '>=', unit: '%', actual: 'successRate' },
  assertionPassRate: { comparator: '>=', unit: '%', actual: 'assertionPassRate' },
  p50Ms: { comparator: '<=', unit: 'ms', actual: 'p50Ms' },
  p95Ms: { comparator: '<=', unit: 'ms', actual: 'p95Ms' },
  p99Ms: { comparator: '<=', unit: 'ms', actual: 'p99Ms' },
  minRps: { comparator: '>=', unit: 'req/s', actual: 'rps' },
};

const ORDER = Object.keys(SHAPE) as GoalName[];

/** The goals in force: the user's, or the defaults when the user set none. */
export function effectiveGoals(
  goals: Goals,
  recordedSuccessRate: number,
): { goals: Goals; source: GoalResult['source'] } {
  const set = ORDER.some((name) => goals[name] !== undefined);
  if (set) return { goals, source: 'user' };
  return { goals: { assertionPassRate: 100, successRate: recordedSuccessRate }, source: 'default' };
}

export function evaluateGoals(
  goals: Goals,
  actuals: GoalActuals,
  source: GoalResult['source'] = 'user',
): GoalResult[] {
  const out: GoalResult[] = [];
  for (const name of ORDER) {
    const expected = goals[name];
    if (expected === undefined) continue;
    const { comparator, unit, actual: key } = SHAPE[name];
    const actual = actuals[key];
    const passed = actual !== null && (comparator === '>=' ? actual >= expected : actual <= expected);
    out.push({ name, expected, actual, comparator, unit, passed, source });
  }
  return out;
}

export interface VerdictInput {
  goals: readonly GoalResult[];
  requests: number;
  mode: ReplayMode;
  /** The replay could not run (or not to the end): the message. */
  error?: string;
  canceled?: boolean;
}

const fmt = (v: number | null, unit: string) =>
  v === null ? 'nothing measured' : `${v}${unit === '%' ? '%' : ` ${unit}`}`;

export function describeGoal(g: GoalResult): string {
  return `${g.name} ${fmt(g.actual, g.unit)} (goal ${g.comparator === '>=' ? '≥' : '≤'} ${fmt(g.expected, g.unit)})`;
}

export function decideVerdict(input: VerdictInput): { verdict: Verdict; reason: string } {
  if (input.canceled) return { verdict: 'Canceled', reason: input.error ?? 'The replay was canceled.' };
  if (input.error) return { verdict: 'Error', reason: input.error };
  if (input.requests === 0 && input.mode !== 'responder-only') {
    return { verdict: 'Error', reason: 'No request was replayed: the generator sent nothing.' };
  }
  const missed = input.goals.filter((g) => !g.passed);
  if (missed.length > 0)
    return { verdict: 'Missed Goals', reason: `Missed: ${missed.map(describeGoal).join('; ')}.` };
  const n = input.goals.length;
  return {
    verdict: 'Passed',
    reason: n === 0 ? 'No goal was set.' : `All ${n} goal${n === 1 ? '' : 's'} met.`,
  };
}
