/**
 * DLP rules as data (JSON/YAML, a recording's `dlp`, the manifest). A field left out takes
 * its default; a field given replaces the default list.
 */
import { z } from 'zod';

export const DETECTORS = ['email', 'card', 'jwt', 'bearer', 'phone', 'ipv4', 'ssn'] as const;
export const DetectorKind = z.enum(DETECTORS);
export type DetectorKind = z.infer<typeof DetectorKind>;

/** The `<kind>` in `REDACTED-<kind>-<hash>`. */
export const TokenKind = z.string().regex(/^[a-z][a-z0-9_]{0,31}$/, 'expected lowercase letters, digits, _');

/** A name (`password`) or `{name, kind}`; the kind defaults to `secret`. */
export const KeyRule = z
  .union([z.string().min(1), z.strictObject({ name: z.string().min(1), kind: TokenKind.optional() })])
  .transform((r) =>
    typeof r === 'string' ? { name: r, kind: 'secret' } : { name: r.name, kind: r.kind ?? 'secret' },
  );
export type KeyRule = z.output<typeof KeyRule>;

const rule = (name: string, kind = 'secret'): KeyRule => ({ name, kind });

/** Authorization-style headers keep their scheme word; cookie headers keep cookie names. */
export const DEFAULT_HEADER_RULES: KeyRule[] = [
  rule('authorization'),
  rule('proxy-authorization'),
  rule('cookie', 'cookie'),
  rule('set-cookie', 'cookie'),
  rule('x-api-key'),
  rule('x-auth-token'),
];

/** JSON, form and query keys; matched ignoring case, `-` and `_` (accessToken = access_token). */
export const DEFAULT_KEY_RULES: KeyRule[] = [
  ...['password', 'passwd', 'token', 'access_token', 'refresh_token', 'secret', 'client_secret'].map((n) =>
    rule(n),
  ),
  ...['api_key', 'apikey', 'cvv', 'pin'].map((n) => rule(n)),
  rule('ssn', 'ssn'),
  rule('card', 'card'),
  rule('card_number', 'card'),
];

/** Headers whose values are protocol plumbing: detectors never look at them. */
export const DEFAULT_EXEMPT_HEADERS = [
  'host',
  'content-length',
  'content-type',
  'content-encoding',
  'transfer-encoding',
  'connection',
  'accept',
  'accept-encoding',
  'date',
];

export const DlpRules = z.strictObject({
  headers: z.array(KeyRule).default(DEFAULT_HEADER_RULES),
  keys: z.array(KeyRule).default(DEFAULT_KEY_RULES),
  detectors: z.array(DetectorKind).default([...DETECTORS]),
  /** Where detectors and key rules look. */
  scan: z
    .strictObject({
      headers: z.boolean().default(true),
      query: z.boolean().default(true),
      path: z.boolean().default(true),
      body: z.boolean().default(true),
    })
    .default({ headers: true, query: true, path: true, body: true }),
  exemptHeaders: z.array(z.string().min(1)).default(DEFAULT_EXEMPT_HEADERS),
});
export type DlpRules = z.output<typeof DlpRules>;
export type DlpRulesInput = z.input<typeof DlpRules>;

export const DEFAULT_DLP_RULES: DlpRules = DlpRules.parse({});
