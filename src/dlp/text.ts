/** Masking one string: key rules and detectors find spans, then one splice replaces them. */
import type { Detectors } from './detectors.js';
import type { KeyScanner } from './keys.js';
import { applySpans, type Span } from './spans.js';
import { isToken, type Tokenizer } from './tokens.js';

export class TextMasker {
  constructor(
    readonly tokens: Tokenizer,
    readonly detectors: Detectors,
    readonly keys: KeyScanner,
  ) {}

  /** `text` with every secret replaced by its token (the same string when there is none). */
  mask(text: string): string {
    if (text.length === 0) return text;
    const spans: Span[] = [];
    this.keys.find(text, spans);
    this.detectors.find(text, spans);
    return applySpans(text, spans, this.tokens);
  }

  /** The token replacing a whole value found by a key rule (already-masked values stay). */
  token(kind: string, value: string): string {
    return value === '' || isToken(value) ? value : this.tokens.token(kind, value);
  }
}
