/**
 * `jwt-resign`: a recorded JWT (in Authorization or the named headers) is sent with a fresh
 * iat, an exp that keeps the recorded lifetime (or the configured ttl), and a signature made
 * with the given key. A token is decoded once; it is re-signed at most once per second.
 */
import { createHmac, createPrivateKey, createSecretKey, sign, type KeyObject } from 'node:crypto';
import type { Transform } from '../../config/replay.js';
import { parseDuration } from '../../base/duration.js';
import { GeneratorConfigError } from '../errors.js';
import type { DraftRequest } from './draft.js';
import { matchesToSlots, type Slot } from './text.js';
import { resolveRefs, type ValueSources } from './vars.js';

type JwtTransform = Extract<Transform, { type: 'jwt-resign' }>;
type Algorithm = JwtTransform['algorithm'];
type Claims = Record<string, unknown>;

const JWT = /(?<![\w-])eyJ[\w-]*\.[\w-]+\.[\w-]*(?![\w-])/g;
const HMAC_HASH: Record<string, string> = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' };

const b64json = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

function decodePart(part: string): Claims | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Claims) : undefined;
  } catch {
    return undefined;
  }
}

function signer(algorithm: Algorithm, keyText: string, field: string): (input: string) => string {
  if (algorithm === 'RS256') {
    let key: KeyObject;
    try {
      key = createPrivateKey(keyText);
    } catch (err) {
      throw new GeneratorConfigError(
        field,
        `expected a PEM private key for RS256 (${(err as Error).message})`,
      );
    }
    return (input) => sign('sha256', Buffer.from(input), key).toString('base64url');
  }
  const key = createSecretKey(Buffer.from(keyText, 'utf8'));
  const hash = HMAC_HASH[algorithm];
  return (input) => createHmac(hash, key).update(input).digest('base64url');
}

export function compileJwtResign(spec: JwtTransform, sources: ValueSources, field: string) {
  const signWith = signer(spec.algorithm, resolveRefs(spec.key, sources, `${field}.key`), `${field}.key`);
  const ttlSec = spec.ttl === undefined ? undefined : Math.round((parseDuration(spec.ttl) ?? 0) / 1000);
  const names = new Set(spec.headers.map((h) => h.toLowerCase()));
  // One slot per distinct recorded token: a token shared by many requests is signed once a second.
  const slots = new Map<string, Slot | undefined>();

  const resigner = (token: string, recordedAtSec: number): Slot | undefined => {
    const [h, p] = token.split('.');
    const header = decodePart(h);
    const claims = decodePart(p);
    if (!header || !claims) return undefined;
    const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
    const issuedAt = num(claims.iat) ?? recordedAtSec;
    const exp = num(claims.exp);
    const nbf = num(claims.nbf);
    const lifetime = ttlSec ?? (exp === undefined ? undefined : exp - issuedAt);
    const encodedHeader = b64json({ ...header, alg: spec.algorithm });
    let cachedSec = NaN;
    let cached = '';
    return (ctx) => {
      const now = Math.floor(ctx.nowMs / 1000);
      if (now === cachedSec) return cached;
      const fresh: Claims = { ...claims, iat: now };
      if (lifetime !== undefined) fresh.exp = now + lifetime;
      if (nbf !== undefined) fresh.nbf = now + (nbf - issuedAt);
      const input = `${encodedHeader}.${b64json(fresh)}`;
      cachedSec = now;
      cached = `${input}.${signWith(input)}`;
      return cached;
    };
  };

  return (draft: DraftRequest): void => {
    const recordedAtSec = Math.floor(draft.startedAtMs / 1000);
    draft.headers = draft.headers.map(([n, v]) => {
      if (!names.has(n.toLowerCase())) return [n, v];
      return [
        n,
        matchesToSlots(v, JWT, (m) => {
          if (!slots.has(m[0])) slots.set(m[0], resigner(m[0], recordedAtSec));
          return slots.get(m[0]);
        }),
      ];
    });
  };
}
