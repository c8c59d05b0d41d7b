/**
 * Where an S3-compatible store lives, from the environment: `REPRISE_STORE=s3://BUCKET/PREFIX`,
 * `REPRISE_S3_ENDPOINT` (any S3-compatible server; addressed path-style), `AWS_REGION`, and the
 * AWS SDK's usual credential chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, web identity for a
 * ServiceAccount's cloud role, instance metadata).
 */
import type { S3ClientConfig } from '@aws-sdk/client-s3';

export class StoreConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreConfigError';
  }
}

export interface S3Location {
  bucket: string;
  /** Key prefix of everything Reprise stores: empty, or ending with `/`. */
  prefix: string;
  /** Custom endpoint (versitygw, Ceph, SeaweedFS, ...); undefined: AWS S3. */
  endpoint?: string;
  region: string;
  /** Keys from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY; undefined: the SDK's default chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** How long an upload rides out an unreachable server before it fails (REPRISE_S3_RETRY_SECONDS). */
  uploadRetryMs: number;
}

/** A server restart or failover fits in this; a longer outage fails the capture's upload. */
const DEFAULT_RETRY_SECONDS = 60;

/** DNS-compatible bucket names (the rules every S3-compatible server accepts). */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const PREFIX_SEGMENT = /^[A-Za-z0-9._-]+$/;

/** `s3://bucket/some/prefix` -> bucket and `some/prefix/`; errors name REPRISE_STORE. */
export function parseStoreUrl(text: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/]*)\/?(.*)$/.exec(text.trim());
  const expected = 'expected s3://BUCKET or s3://BUCKET/PREFIX (or unset: the filesystem under REPRISE_HOME)';
  if (!m) throw new StoreConfigError(`REPRISE_STORE: ${expected}, got "${text}"`);
  const [, bucket, rawPrefix] = m;
  if (!BUCKET.test(bucket) || bucket.includes('..')) {
    throw new StoreConfigError(
      `REPRISE_STORE: bucket "${bucket}" is not a valid bucket name (3-63 characters: a-z 0-9 . -); ${expected}`,
    );
  }
  const segments = rawPrefix.split('/').filter(Boolean);
  const bad = segments.find((s) => !PREFIX_SEGMENT.test(s) || s === '.' || s === '..');
  if (bad !== undefined) {
    throw new StoreConfigError(
      `REPRISE_STORE: prefix segment "${bad}" is not allowed (use A-Z a-z 0-9 . _ -, no "." or ".." segments)`,
    );
  }
  return { bucket, prefix: segments.length ? segments.join('/') + '/' : '' };
}

export function s3Location(storeUrl: string, env: NodeJS.ProcessEnv): S3Location {
  const { bucket, prefix } = parseStoreUrl(storeUrl);
  const endpoint = env.REPRISE_S3_ENDPOINT?.trim() || undefined;
  if (endpoint !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(endpoint);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.pathname.length > 1) {
      throw new StoreConfigError(
        `REPRISE_S3_ENDPOINT: expected the server's base URL such as http://127.0.0.1:7070 or https://s3.example.com, got "${endpoint}"`,
      );
    }
  }
  const region = env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim() || 'us-east-1';
  const retry = env.REPRISE_S3_RETRY_SECONDS?.trim() || String(DEFAULT_RETRY_SECONDS);
  if (!/^\d+(\.\d+)?$/.test(retry) || Number(retry) > 3600) {
    throw new StoreConfigError(`REPRISE_S3_RETRY_SECONDS: expected seconds from 0 to 3600, got "${retry}"`);
  }
  const accessKeyId = env.AWS_ACCESS_KEY_ID?.trim();
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY?.trim();
  if (!accessKeyId !== !secretAccessKey) {
    throw new StoreConfigError(
      `${accessKeyId ? 'AWS_SECRET_ACCESS_KEY' : 'AWS_ACCESS_KEY_ID'}: set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or neither (the SDK's default credential chain)`,
    );
  }
  const sessionToken = env.AWS_SESSION_TOKEN?.trim() || undefined;
  return {
    bucket,
    prefix,
    endpoint,
    region,
    ...(accessKeyId && secretAccessKey
      ? { credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) } }
      : {}),
    uploadRetryMs: Number(retry) * 1000,
  };
}

/** `s3://bucket/prefix/` (and the endpoint when not AWS): how messages name the store. */
export function describeLocation(loc: S3Location, key = ''): string {
  const where = `s3://${loc.bucket}/${loc.prefix}${key}`;
  return loc.endpoint ? `${where} at ${loc.endpoint}` : where;
}

/**
 * The settings of an S3 client for `loc` (`new S3Client(s3ClientConfig(loc))`); `retryStrategy`:
 * the SDK's standard one (3 attempts) unless given.
 */
export function s3ClientConfig(
  loc: S3Location,
  retryStrategy?: S3ClientConfig['retryStrategy'],
): S3ClientConfig {
  // Reprise supports Node 20; the SDK's notice that its future releases need Node 22 is for
  // Reprise's maintainers (package-lock pins the SDK), not for every process's stderr.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return {
    region: loc.region,
    ...(loc.credentials ? { credentials: loc.credentials } : {}),
    ...(retryStrategy ? { retryStrategy } : {}),
    // A bucket in another AWS region answers with a redirect the client then follows.
    followRegionRedirects: true,
    ...(loc.endpoint
      ? {
          endpoint: loc.endpoint,
          // Non-AWS servers rarely have virtual-host DNS for buckets.
          forcePathStyle: true,
          // Checksums only where S3 requires them: older S3-compatible servers reject the rest.
          requestChecksumCalculation: 'WHEN_REQUIRED' as const,
          responseChecksumValidation: 'WHEN_REQUIRED' as const,
        }
      : {}),
  };
}
