/**
 * Deterministic replacement tokens: `REDACTED-<kind>-<hash>` where the hash is a keyed
 * HMAC-SHA256 of the secret, so the same secret gives the same token in every pair (replay can
 * still correlate a login response with later requests) and nobody without the key can test
 * guesses against it.
 */
import { createHmac } from 'node:crypto';

export const TOKEN_PREFIX = 'REDACTED-';
const HASH_HEX = 12;
/** Secrets repeat (session tokens, API keys): cache their hashes, bounded. */
const CACHE_MAX = 50_000;

export type MaskStats = Record<string, number>;

export const isToken = (value: string): boolean => value.startsWith(TOKEN_PREFIX);

export class Tokenizer {
  private readonly hashes = new Map<string, string>();
  private readonly counts = new Map<string, number>();

  constructor(private readonly key: Buffer) {}

  hash(value: string): string {
    let h = this.hashes.get(value);
    if (h === undefined) {
      h = createHmac('sha256', this.key).update(value).digest('hex').slice(0, HASH_HEX);
      if (this.hashes.size >= CACHE_MAX) this.hashes.clear();
      this.hashes.set(value, h);
    }
    return h;
  }

  /** The token for `value`, counted under `kind`. A card hashes by its digits, however grouped. */
  token(kind: string, value: string): string {
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
    const v = kind === 'card' ? value.replace(/[ -]/g, '') : value;
    return `${TOKEN_PREFIX}${kind}-${this.hash(v)}`;
  }

  stats(): MaskStats {
    return Object.fromEntries(this.counts);
  }
}
