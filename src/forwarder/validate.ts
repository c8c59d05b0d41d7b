/**
 * Validating ingested lines against the RRPair schema, fast. zod's parse of one pair costs
 * more than everything else the forwarder does to it, so a hand-written check accepts the
 * common case (a well-formed pair with no unknown fields) and anything else goes through zod,
 * which strips unknown fields or names what is wrong. The check is never more lenient than
 * the schema (test/forwarder/validate.test.ts holds it to that).
 */
import { RRPair } from '../model/traffic.js';
import { describeZodIssues } from '../base/issues.js';

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === 'string';
const isInt = (v: unknown, min: number, max: number) =>
  typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max;

/** Every key of `o` is in `allowed` (zod would strip the others: let it). */
function onlyKeys(o: Obj, allowed: Set<string>): boolean {
  for (const k in o) if (!allowed.has(k)) return false;
  return true;
}

const PAIR_KEYS = new Set([
  'id',
  'direction',
  'service',
  'protocol',
  'startedAt',
  'durationMs',
  'request',
  'response',
  'error',
  'tags',
]);
const REQUEST_KEYS = new Set(['method', 'scheme', 'host', 'port', 'path', 'query', 'headers', 'body']);
const RESPONSE_KEYS = new Set(['status', 'statusText', 'headers', 'body']);
const BODY_KEYS = new Set(['encoding', 'data', 'size', 'truncated', 'decodedFrom']);
const ERROR_KEYS = new Set(['code', 'message']);

function stringPairs(v: unknown): boolean {
  if (!Array.isArray(v)) return false;
  for (const t of v) if (!Array.isArray(t) || t.length !== 2 || !isStr(t[0]) || !isStr(t[1])) return false;
  return true;
}

function body(v: unknown): boolean {
  if (v === undefined) return true;
  if (!isObj(v) || !onlyKeys(v, BODY_KEYS)) return false;
  const { encoding: e, decodedFrom: d } = v;
  return (
    (e === 'utf8' || e === 'base64') &&
    isStr(v.data) &&
    isInt(v.size, 0, Number.MAX_SAFE_INTEGER) &&
    typeof v.truncated === 'boolean' &&
    (d === undefined || d === 'gzip' || d === 'deflate' || d === 'br')
  );
}

function request(v: unknown): boolean {
  if (!isObj(v) || !onlyKeys(v, REQUEST_KEYS)) return false;
  return (
    isStr(v.method) &&
    v.method.length > 0 &&
    (v.scheme === 'http' || v.scheme === 'https') &&
    isStr(v.host) &&
    isInt(v.port, 0, 65535) &&
    isStr(v.path) &&
    stringPairs(v.query) &&
    stringPairs(v.headers) &&
    body(v.body)
  );
}

function response(v: unknown): boolean {
  if (v === undefined) return true;
  if (!isObj(v) || !onlyKeys(v, RESPONSE_KEYS)) return false;
  return (
    isInt(v.status, 100, 999) &&
    (v.statusText === undefined || isStr(v.statusText)) &&
    stringPairs(v.headers) &&
    body(v.body)
  );
}

function tags(v: unknown): boolean {
  if (!isObj(v)) return false;
  for (const k in v) if (!isStr(v[k])) return false;
  return true;
}

function isPlainPair(v: unknown): v is RRPair {
  if (!isObj(v) || !onlyKeys(v, PAIR_KEYS)) return false;
  const { direction: d, protocol: p, error: e } = v;
  return (
    isStr(v.id) &&
    v.id.length > 0 &&
    (d === 'inbound' || d === 'outbound') &&
    isStr(v.service) &&
    (p === 'http/1.1' || p === 'h2') &&
    isStr(v.startedAt) &&
    typeof v.durationMs === 'number' &&
    Number.isFinite(v.durationMs) &&
    v.durationMs >= 0 &&
    request(v.request) &&
    response(v.response) &&
    (e === undefined || (isObj(e) && onlyKeys(e, ERROR_KEYS) && isStr(e.code) && isStr(e.message))) &&
    (v.tags === undefined || tags(v.tags))
  );
}

/**
 * The pair, or why it is not one. `exact`: `data` is the pair as it is, nothing stripped and no
 * default filled in, so the JSON text it was parsed from stands for it.
 */
export function checkPair(data: unknown): { pair: RRPair; exact: boolean } | string {
  if (isPlainPair(data)) {
    if (data.tags !== undefined) return { pair: data, exact: true };
    data.tags = {};
    return { pair: data, exact: false };
  }
  const parsed = RRPair.safeParse(data);
  return parsed.success ? { pair: parsed.data, exact: false } : describeZodIssues(parsed.error.issues);
}

/** The pair, or why it is not one (`path: message; ...`). */
export function validatePair(data: unknown): RRPair | string {
  const checked = checkPair(data);
  return typeof checked === 'string' ? checked : checked.pair;
}
