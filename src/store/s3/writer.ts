/**
 * Writes one snapshot into S3: the gzipped NDJSON streams up as a multipart upload into this
 * writer's own part (`snapshots/<id>/traffic-<writer>.ndjson.gz`), then the manifest naming the
 * part is written, last and only if absent. Until the manifest exists nothing lists; two writers
 * of one id never overwrite each other's part; the loser of a race removes its own.
 */
import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { childLog } from '../../base/log.js';
import type { SnapshotManifest } from '../../model/traffic.js';
import { SnapshotExistsError } from '../errors.js';
import { MANIFEST_FILE } from '../manifest.js';
import { StreamingSnapshotWriter } from '../stream-writer.js';
import type { NewSnapshot } from '../types.js';
import { isPreconditionFailed, unlessMissing, type S3Objects } from './objects.js';

const GZIP_NDJSON = 'application/x-ndjson+gzip';
const log = childLog('s3-store');

export const snapshotKey = (id: string, file = '') => `snapshots/${id}/${file}`;
/** A writer's part: its name says which writer (a forwarder replica, later) wrote it. */
export const partName = (writer: string) => `traffic-${writer}.ndjson.gz`;

export class S3SnapshotWriter extends StreamingSnapshotWriter {
  private readonly part: string;
  private readonly cancel: AbortController;

  /** `writer`: names this writer's part; default a random token. */
  constructor(
    id: string,
    spec: NewSnapshot,
    private readonly objects: S3Objects,
    writer = randomBytes(6).toString('hex'),
  ) {
    const part = partName(writer);
    const cancel = new AbortController();
    super(id, spec, (gzip) => {
      // The upload reads from here at its own pace: gzip then pushes back on the writer.
      const body = new PassThrough({ highWaterMark: 1024 * 1024 });
      // Either side ending early ends the other: an aborted writer (gzip destroyed) fails the
      // upload, and a failed upload stops the gzip stream.
      pipeline(gzip, body).catch(() => undefined);
      return objects.upload(snapshotKey(id, part), body, GZIP_NDJSON, cancel.signal).catch((err: unknown) => {
        body.destroy();
        throw err;
      });
    });
    this.part = part;
    this.cancel = cancel;
  }

  protected override parts(): string[] {
    return [this.part];
  }

  protected async checkPublishable(): Promise<void> {
    // Patient like the upload: a seal rides out the same short outage.
    if (await this.objects.exists(snapshotKey(this.id, MANIFEST_FILE), true))
      throw new SnapshotExistsError(this.id);
  }

  protected async publish(manifest: SnapshotManifest): Promise<void> {
    try {
      await this.objects.put(
        snapshotKey(this.id, MANIFEST_FILE),
        JSON.stringify(manifest, null, 2) + '\n',
        'application/json',
        true,
      );
    } catch (err) {
      throw isPreconditionFailed(err) ? new SnapshotExistsError(this.id) : err;
    }
  }

  /**
   * Best effort: stops the upload, aborts what it left pending and deletes the part if it was
   * completed. With the server unreachable the leftovers wait for cleanPartials(); they never list.
   */
  protected async discard(): Promise<void> {
    this.cancel.abort();
    const key = snapshotKey(this.id, this.part);
    try {
      for (const u of await this.objects.pendingUploads(key))
        if (u.key === key) await unlessMissing(this.objects.abortUpload(u));
      await unlessMissing(this.objects.delete(key));
    } catch (err) {
      log.warn(
        { snapshotId: this.id, part: this.objects.describe(key), err: (err as Error).message },
        'could not remove the part of a discarded snapshot; it never lists, cleanPartials() removes it later',
      );
    }
  }
}
