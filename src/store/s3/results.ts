/** Replay results in the bucket: `<prefix>replays/<id>/{observed.ndjson.gz, summary.json, report.*}`. */
import { createReadStream } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { ReplayResultStore } from '../results.js';
import { unlessMissing, type S3Objects } from './objects.js';

const OBSERVED = 'observed.ndjson.gz';
const SUMMARY = 'generator-summary.json';
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

  async putObserved(replayId: string, body: Readable): Promise<void> {
    await this.objects.upload(replayKey(replayId, OBSERVED), body, 'application/x-ndjson+gzip');
  }

  openObserved(replayId: string): Promise<Readable | undefined> {
    return unlessMissing(this.objects.getStream(replayKey(replayId, OBSERVED)));
  }

  async putSummary(replayId: string, json: string): Promise<void> {
    await this.objects.put(replayKey(replayId, SUMMARY), json, 'application/json');
  }

  getSummary(replayId: string): Promise<string | undefined> {
    return unlessMissing(this.objects.getText(replayKey(replayId, SUMMARY)));
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
