/**
 * Where a replay's results go: what the generator observed (`observed.ndjson.gz`, streamed),
 * its summary, and the report. Locally the replay folder under REPRISE_HOME; with the S3 store
 * the bucket (src/store/s3/results.ts), so generators and analyzers on other machines share them.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { generatorSummaryFile, observedFile } from '../base/paths.js';
import { replaceAtomic, writeFileAtomic } from './durable.js';

export interface ReplayResultStore {
  /** Where the results are, for messages. */
  readonly root: string;
  /** True when results live away from REPRISE_HOME: a generator uploads what it wrote locally. */
  readonly remote: boolean;
  /**
   * Streams the generator's observed file (gzipped NDJSON) in; whole or not at all. `replica`
   * (0-based) names one generator's part when the load was split (load.replicas).
   */
  putObserved(replayId: string, body: Readable, replica?: number): Promise<void>;
  /** The observed bytes, or undefined when none were stored. */
  openObserved(replayId: string, replica?: number): Promise<Readable | undefined>;
  /** The generator's summary (JSON text); written after the observed file, so it marks it complete. */
  putSummary(replayId: string, json: string, replica?: number): Promise<void>;
  getSummary(replayId: string, replica?: number): Promise<string | undefined>;
  /** Copies report files written locally (report.json, report.html) in beside the rest. */
  putReport(replayId: string, files: string[]): Promise<void>;
}

const isMissing = (err: unknown) => (err as NodeJS.ErrnoException).code === 'ENOENT';

/** The replay folders under REPRISE_HOME (`replays/<id>/`), where the report is written too. */
export class FsReplayResults implements ReplayResultStore {
  readonly remote = false;
  readonly root: string;

  constructor(private readonly home: string) {
    this.root = path.join(home, 'replays');
  }

  async putObserved(replayId: string, body: Readable, replica?: number): Promise<void> {
    const file = observedFile(this.home, replayId, replica);
    await mkdir(path.dirname(file), { recursive: true });
    await replaceAtomic(file, (tmp) => pipeline(body, createWriteStream(tmp, { flags: 'wx' })));
  }

  async openObserved(replayId: string, replica?: number): Promise<Readable | undefined> {
    const stream = createReadStream(observedFile(this.home, replayId, replica));
    try {
      await new Promise<void>((resolve, reject) =>
        stream.once('open', () => resolve()).once('error', reject),
      );
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
    return stream;
  }

  async putSummary(replayId: string, json: string, replica?: number): Promise<void> {
    const file = generatorSummaryFile(this.home, replayId, replica);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFileAtomic(file, json);
  }

  async getSummary(replayId: string, replica?: number): Promise<string | undefined> {
    try {
      return await readFile(generatorSummaryFile(this.home, replayId, replica), 'utf8');
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  /** The report is written in the replay folder already. */
  async putReport(): Promise<void> {}
}

/**
 * What a generator hands over when it is done: its observed file (when it wrote one), then the
 * summary, which marks the results complete. Errors name the replay and where it stores.
 */
export async function storeReplayResults(
  results: ReplayResultStore,
  replayId: string,
  observedPath: string,
  summary: unknown,
  replica?: number,
): Promise<void> {
  const observed = await stat(observedPath).catch(() => undefined);
  try {
    if (observed) await results.putObserved(replayId, createReadStream(observedPath), replica);
    await results.putSummary(replayId, JSON.stringify(summary), replica);
  } catch (err) {
    throw new Error(
      `replay ${replayId}: storing the observed responses in ${results.root} failed: ${(err as Error).message}`,
      { cause: err },
    );
  }
}
