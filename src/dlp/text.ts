/** Masking one string: key rules and detectors find spans, then one splice replaces them. */
import type { Detectors } from './detectors.js';
import type { KeyScanner } from './keys.js';
import { applySpans, type Span } from './spans.js';
import { isToken, type Tokenizer } from './tokens.js';

/**
 * Short strings found clean are remembered: header and query values repeat from pair to pair
 * (user-agent, accept-language, cache-control) and a set lookup costs far less than the scans.
 * Only clean results are kept, so counts stay exact; bounded, cleared when full.
 */
const CLEAN_KEPT = 4096;
const CLEAN_MAX_CHARS = 256;

export class TextMasker {
  private readonly clean = new Set<string>();

  constructor(
    readonly tokens: Tokenizer,
    readonly detectors: Detectors,
    readonly keys: KeyScanner,
  ) {}

  /** `text` with every secret replaced by its token (the same string when there is none). */
  mask(text: string): string {
    if (text.length === 0) return text;
    const short = text.length <= CLEAN_MAX_CHARS;
    if (short && this.clean.has(text)) return text;
    const spans: Span[] = [];
    this.keys.find(text, spans);
    this.detectors.find(text, spans);
    if (spans.length) return applySpans(text, spans, this.tokens);
    if (short) {
      if (this.clean.size >= CLEAN_KEPT) this.clean.clear();
      this.clean.add(text);
    }
    return text;
  }

  /** The token replacing a whole value found by a key rule (already-masked values stay). */
  token(kind: string, value: string): string {
    return value === '' || isToken(value) ? value : this.tokens.token(kind, value);
  }
}
