/** Replay results in the bucket: `<prefix>replays/<id>/{observed[-N].ndjson.gz, generator-summary[-N].json, report.*}`. */
import { createReadStream } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { ReplayResultStore } from '../results.js';
import { unlessMissing, type S3Objects } from './objects.js';
import { observedName, summaryName } from '../../base/paths.js';

const CONTENT_TYPES: Record<string, string> = {
  '.json': 'application/json',
  '.html': 'text/html; charset=utf-8',
};

const replayKey = (replayId: string, file: string) => `replays/${replayId}/${file}`;

export class S3ReplayResults implements ReplayResultStore {
  readonly remote = true;
  readonly root: string;

  constructor(private readonly objects: S3Objects) {
    this.root = objects.describe('replays/');
  }

  async putObserved(replayId: string, body: Readable, replica?: number): Promise<void> {
    await this.objects.upload(replayKey(replayId, observedName(replica)), body, 'application/x-ndjson+gzip');
  }

  openObserved(replayId: string, replica?: number): Promise<Readable | undefined> {
    return unlessMissing(this.objects.getStream(replayKey(replayId, observedName(replica))));
  }

  async putSummary(replayId: string, json: string, replica?: number): Promise<void> {
    await this.objects.put(replayKey(replayId, summaryName(replica)), json, 'application/json');
  }

  getSummary(replayId: string, replica?: number): Promise<string | undefined> {
    return unlessMissing(this.objects.getText(replayKey(replayId, summaryName(replica))));
  }

  async putReport(replayId: string, files: string[]): Promise<void> {
    for (const file of files) {
      const name = path.basename(file);
      await this.objects.upload(
        replayKey(replayId, name),
        createReadStream(file),
        CONTENT_TYPES[path.extname(name)] ?? 'application/octet-stream',
      );
    }
  }
}
