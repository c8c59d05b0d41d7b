/**
 * The few S3 calls the store makes, bound to one bucket and key prefix. Keys given here are
 * relative to the prefix; errors name the object (`s3://bucket/prefix/key`) they concern.
 */
import type { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { describeLocation, s3ClientConfig, type S3Location } from './config.js';
import { loadS3Sdk, type S3Sdk } from './sdk.js';
import { PatientRetry } from './retry.js';

/** Multipart part size (S3's minimum is 5 MiB) and parts in flight: memory per upload stays under ~3 parts. */
export const PART_BYTES = 8 * 1024 * 1024;
const PARTS_IN_FLIGHT = 2;

export interface ObjectInfo {
  key: string;
  lastModified: number;
}

export interface PendingUpload extends ObjectInfo {
  uploadId: string;
}

/** True for "no such object" (GET answers NoSuchKey, HEAD a bare 404). */
export function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}

/** The call's result, or undefined when the object does not exist. */
export async function unlessMissing<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** True when a conditional write lost (If-None-Match: * on an existing key). */
export function isPreconditionFailed(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'PreconditionFailed' || e?.$metadata?.httpStatusCode === 412;
}

/** An S3 call that failed for another reason than a missing key or a lost condition; names the object. */
export class S3StoreError extends Error {
  constructor(message: string, options: { cause: unknown }) {
    super(message, options);
    this.name = 'S3StoreError';
  }
}

interface Clients {
  s3: S3Sdk['s3'];
  storage: S3Sdk['storage'];
  client: S3Client;
  /** Uploads ride out a short outage of the server (see retry.ts); reads fail fast. */
  uploads: S3Client;
}

export class S3Objects {
  private clients?: Promise<Clients>;

  constructor(readonly location: S3Location) {}

  /** The SDK and the clients, made on the first call (see sdk.ts). */
  private connect(): Promise<Clients> {
    this.clients ??= loadS3Sdk().then(({ s3, storage }) => ({
      s3,
      storage,
      client: new s3.S3Client(s3ClientConfig(this.location)),
      uploads: new s3.S3Client(s3ClientConfig(this.location, new PatientRetry(this.location.uploadRetryMs))),
    }));
    return this.clients;
  }

  private get bucket(): string {
    return this.location.bucket;
  }

  private full(key: string): string {
    return this.location.prefix + key;
  }

  describe(key = ''): string {
    return describeLocation(this.location, key);
  }

  /** Runs one call; its error names the object (not-found and precondition errors pass as they are). */
  private async named<T>(key: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      if (isNotFound(err) || isPreconditionFailed(err)) throw err;
      throw new S3StoreError(`${this.describe(key)}: ${(err as Error).message}`, { cause: err });
    }
  }

  getText(key: string): Promise<string> {
    return this.named(key, async () => {
      const { s3, client } = await this.connect();
      const res = await client.send(new s3.GetObjectCommand({ Bucket: this.bucket, Key: this.full(key) }));
      return res.Body!.transformToString('utf8');
    });
  }

  /** The object's bytes as a stream; the caller reads or destroys it. */
  getStream(key: string): Promise<Readable> {
    return this.named(key, async () => {
      const { s3, client } = await this.connect();
      const res = await client.send(new s3.GetObjectCommand({ Bucket: this.bucket, Key: this.full(key) }));
      return res.Body as Readable;
    });
  }

  /** `patient`: rides out an outage like an upload (a seal's check), instead of failing fast. */
  async exists(key: string, patient = false): Promise<boolean> {
    try {
      await this.named(key, async () => {
        const { s3, client, uploads } = await this.connect();
        const head = new s3.HeadObjectCommand({ Bucket: this.bucket, Key: this.full(key) });
        return (patient ? uploads : client).send(head);
      });
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  /** `onlyIfAbsent`: a conditional write that fails (412) when the key already exists. */
  async put(key: string, body: string, contentType: string, onlyIfAbsent = false): Promise<void> {
    const { s3, uploads } = await this.connect();
    await this.named(key, () =>
      uploads.send(
        new s3.PutObjectCommand({
          Bucket: this.bucket,
          Key: this.full(key),
          Body: body,
          ContentType: contentType,
          ...(onlyIfAbsent ? { IfNoneMatch: '*' } : {}),
        }),
      ),
    );
  }

  /**
   * Streams `body` into `key` as a multipart upload (a single PUT when it is under one part),
   * reading at most PARTS_IN_FLIGHT parts ahead. Aborting `signal` aborts the upload.
   */
  async upload(key: string, body: Readable, contentType: string, signal?: AbortSignal): Promise<void> {
    const { storage, uploads } = await this.connect();
    const upload = new storage.Upload({
      client: uploads,
      params: { Bucket: this.bucket, Key: this.full(key), Body: body, ContentType: contentType },
      partSize: PART_BYTES,
      queueSize: PARTS_IN_FLIGHT,
      leavePartsOnError: false,
    });
    const abort = () => void upload.abort().catch(() => undefined);
    signal?.addEventListener('abort', abort, { once: true });
    try {
      await this.named(key, () => upload.done());
    } finally {
      signal?.removeEventListener('abort', abort);
    }
  }

  async delete(key: string): Promise<void> {
    const { s3, client } = await this.connect();
    await this.named(key, () =>
      client.send(new s3.DeleteObjectCommand({ Bucket: this.bucket, Key: this.full(key) })),
    );
  }

  /** Objects under `dir` (relative keys), every page; `delimiter` also returns the sub-folders. */
  async list(dir: string, delimiter?: string): Promise<{ objects: ObjectInfo[]; folders: string[] }> {
    const objects: ObjectInfo[] = [];
    const folders: string[] = [];
    const strip = (k: string) => k.slice(this.location.prefix.length);
    const { s3, client } = await this.connect();
    let token: string | undefined;
    do {
      const page = await this.named(dir, () =>
        client.send(
          new s3.ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: this.full(dir),
            Delimiter: delimiter,
            ContinuationToken: token,
          }),
        ),
      );
      for (const o of page.Contents ?? [])
        objects.push({ key: strip(o.Key!), lastModified: o.LastModified?.getTime() ?? 0 });
      for (const p of page.CommonPrefixes ?? []) folders.push(strip(p.Prefix!));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return { objects, folders };
  }

  /** Multipart uploads begun under `dir` and neither completed nor aborted. */
  async pendingUploads(dir: string): Promise<PendingUpload[]> {
    const out: PendingUpload[] = [];
    let keyMarker: string | undefined;
    let idMarker: string | undefined;
    const { s3, client } = await this.connect();
    for (;;) {
      const page = await this.named(dir, () =>
        client.send(
          new s3.ListMultipartUploadsCommand({
            Bucket: this.bucket,
            Prefix: this.full(dir),
            KeyMarker: keyMarker,
            UploadIdMarker: idMarker,
          }),
        ),
      );
      for (const u of page.Uploads ?? []) {
        out.push({
          key: u.Key!.slice(this.location.prefix.length),
          uploadId: u.UploadId!,
          lastModified: u.Initiated?.getTime() ?? 0,
        });
      }
      if (!page.IsTruncated) return out;
      keyMarker = page.NextKeyMarker;
      idMarker = page.NextUploadIdMarker;
    }
  }

  async abortUpload(u: PendingUpload): Promise<void> {
    const { s3, client } = await this.connect();
    await this.named(u.key, () =>
      client.send(
        new s3.AbortMultipartUploadCommand({
          Bucket: this.bucket,
          Key: this.full(u.key),
          UploadId: u.uploadId,
        }),
      ),
    );
  }
}
