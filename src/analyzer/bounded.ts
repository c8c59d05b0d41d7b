/** Inputs that go into the report nearly as given, cut to size: component logs, responder stats. */
import type { ResponderStats } from '../model/replay.js';
import type { LogSection, ResponderReport } from '../report/schema.js';
import type { AnalyzeInput, AnalyzeLimits } from './input.js';
import { percent } from './summarize.js';

/** The last lines of each log (the end is where a failure shows), long lines cut. */
export function boundLogs(logs: AnalyzeInput['logs'], limits: AnalyzeLimits): LogSection[] {
  return (logs ?? []).map(({ name, lines }) => {
    const kept = lines.slice(-limits.maxLogLines);
    return {
      name,
      lines: kept.map((l) =>
        l.length > limits.maxLogLineChars ? `${l.slice(0, limits.maxLogLineChars)}…` : l,
      ),
      omitted: lines.length - kept.length,
    };
  });
}

export function responderReport(
  stats: ResponderStats | undefined,
  limits: AnalyzeLimits,
): ResponderReport | null {
  if (!stats) return null;
  const total = stats.match + stats.noMatch + stats.passthrough;
  const misses = stats.misses.slice(0, limits.maxResponderMisses);
  return {
    match: stats.match,
    noMatch: stats.noMatch,
    passthrough: stats.passthrough,
    total,
    matchRate: total === 0 ? null : percent(stats.match, total),
    misses,
    missesOmitted: stats.missesDropped + (stats.misses.length - misses.length),
  };
}
