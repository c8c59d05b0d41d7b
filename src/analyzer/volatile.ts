/**
 * Heuristics for values that change on every call of the same request: timestamps, uuids,
 * random ids, JWTs. A field whose recorded value looks like one is treated as noise.
 */
import type { NoiseReason } from '../report/schema.js';

/** Headers that change between identical calls by design. */
export const VOLATILE_HEADERS: ReadonlySet<string> = new Set([
  'date',
  'expires',
  'last-modified',
  'age',
  'etag',
  'set-cookie',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'x-request-id',
  'request-id',
  'x-correlation-id',
  'x-trace-id',
  'traceparent',
  'tracestate',
  'x-b3-traceid',
  'x-b3-spanid',
  'x-amzn-requestid',
  'x-amzn-trace-id',
  'x-response-time',
  'x-runtime',
  'server-timing',
  'cf-ray',
  'x-cache',
  'via',
]);

const DAY_MS = 24 * 3600 * 1000;
/** An epoch number is a timestamp when it lies this close to the capture time or to now. */
const EPOCH_WINDOW_MS = 30 * DAY_MS;

const JWT = /^(Bearer\s+)?eyJ[\w-]*\.eyJ[\w-]*\.[\w-]*$/;
const UUID = /^(urn:uuid:)?\{?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\}?$/i;
const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/i;
const RFC_1123 =
  /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{1,2}[ -](Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[ -]\d{2,4} \d{2}:\d{2}:\d{2} (GMT|UTC|[+-]\d{4})$/;
const HEX_ID = /^(?=.*\d)(?=.*[a-f])[0-9a-f]{16,}$/i;
const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const TOKEN = /^[A-Za-z0-9+/_-]{20,}={0,2}$/;

/** Bits per character: random tokens sit near log2(alphabet), words and slugs far lower. */
function entropy(text: string): number {
  const counts = new Map<string, number>();
  for (const c of text) counts.set(c, (counts.get(c) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) {
    const p = n / text.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

function looksRandomToken(text: string): boolean {
  if (!TOKEN.test(text)) return false;
  const classes = [/[a-z]/, /[A-Z]/, /\d/].filter((re) => re.test(text)).length;
  return classes === 3 && entropy(text) >= 3.5;
}

function nearTime(ms: number, around: readonly number[]): boolean {
  return around.some((t) => Math.abs(ms - t) <= EPOCH_WINDOW_MS);
}

/** Epoch seconds or milliseconds close to one of the reference times. */
function looksLikeEpoch(n: number, around: readonly number[]): boolean {
  if (!Number.isFinite(n) || n <= 0) return false;
  return nearTime(n * 1000, around) || nearTime(n, around);
}

/**
 * Why `value` looks volatile, or undefined. `around` holds reference times in epoch ms (the
 * capture time of the recording, now) for telling an epoch timestamp from an ordinary number.
 */
export function volatileReason(value: unknown, around: readonly number[]): NoiseReason | undefined {
  if (typeof value === 'number') return looksLikeEpoch(value, around) ? 'looks-like-timestamp' : undefined;
  if (typeof value !== 'string' || value.length < 8) return undefined;
  const v = value.trim();
  if (JWT.test(v)) return 'looks-like-jwt';
  if (UUID.test(v)) return 'looks-like-uuid';
  if (ISO_DATETIME.test(v) || RFC_1123.test(v)) return 'looks-like-timestamp';
  if (/^\d{10}(\d{3})?$/.test(v) && looksLikeEpoch(Number(v), around)) return 'looks-like-timestamp';
  if (HEX_ID.test(v) || ULID.test(v) || looksRandomToken(v)) return 'looks-like-random-id';
  return undefined;
}
