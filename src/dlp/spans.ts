/** A found secret inside a string, and replacing the found spans with tokens in one pass. */
import type { Tokenizer } from './tokens.js';

export interface Span {
  start: number;
  end: number;
  kind: string;
  /** What is hashed; default the text of the span (set when that text is escaped or encoded). */
  value?: string;
  /** Written around the token: a JSON number value becomes a JSON string. */
  quote?: string;
}

/**
 * Replaces non-overlapping spans (earliest first; on a tie the one found first, so key rules
 * win over detectors) with tokens. Returns `text` itself when there is nothing to replace.
 */
export function applySpans(text: string, spans: Span[], tokens: Tokenizer): string {
  if (spans.length === 0) return text;
  if (spans.length > 1) spans.sort((a, b) => a.start - b.start);
  let out = '';
  let pos = 0;
  for (const s of spans) {
    if (s.start < pos || s.end <= s.start) continue;
    const q = s.quote ?? '';
    out += text.slice(pos, s.start) + q + tokens.token(s.kind, s.value ?? text.slice(s.start, s.end)) + q;
    pos = s.end;
  }
  return out + text.slice(pos);
}
