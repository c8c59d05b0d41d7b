/**
 * Reading a snapshot's traffic back, whatever holds it (a file, an S3 object): gunzip -> lines
 * -> JSON, one pair at a time, and several parts merged in capture order. Memory stays flat
 * however big the snapshot is.
 */
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { RRPair, type SnapshotManifest } from '../model/traffic.js';
import { CorruptSnapshotError } from './errors.js';
import { describeIssues } from './issue-path.js';
import { splitLines } from './lines.js';
import { TRAFFIC_FILE } from './manifest.js';
import { capturedBefore } from './tally.js';

export interface ReadPairsOptions {
  /** Check each pair against the RRPair schema (default true); off for trusted hot paths. */
  validate?: boolean;
}

/** Opens one traffic file of a snapshot as a byte stream (rejects when it cannot). */
export type OpenPart = (part: string) => Promise<Readable>;

/** The traffic files a manifest names, in writer order. */
export const trafficParts = (m: SnapshotManifest): string[] => m.parts ?? [TRAFFIC_FILE];

/**
 * The snapshot's pairs: one part streamed as written, several merged by `startedAt` (each
 * part keeps its own order; ties go to the earlier part). `missing(err)` tells an absent file.
 */
export function readSnapshotPairs(
  m: SnapshotManifest,
  open: OpenPart,
  missing: (err: unknown) => boolean,
  opts: ReadPairsOptions = {},
): AsyncGenerator<RRPair> {
  const read = (part: string) => readPart(m.id, part, open, missing, opts.validate ?? true);
  // Several writers: each one's parts follow one another; the writers are merged by time.
  const streams = m.writers
    ? m.writers.filter((w) => w.parts.length > 0).map((w) => inSequence(w.parts.map((p) => () => read(p))))
    : trafficParts(m).map(read);
  return streams.length === 1 ? streams[0] : mergeInCaptureOrder(streams);
}

/** One part after another, each opened only when the one before it is done. */
async function* inSequence(parts: (() => AsyncGenerator<RRPair>)[]): AsyncGenerator<RRPair> {
  for (const part of parts) yield* part();
}

async function* readPart(
  id: string,
  part: string,
  open: OpenPart,
  missing: (err: unknown) => boolean,
  validate: boolean,
): AsyncGenerator<RRPair> {
  let source: Readable;
  try {
    source = await open(part);
  } catch (err) {
    if (missing(err)) throw new CorruptSnapshotError(id, `${part} is missing`);
    throw err;
  }
  const gunzip = createGunzip();
  source.on('error', (err) => gunzip.destroy(err));
  source.pipe(gunzip);
  let line = 0;
  try {
    for await (const text of splitLines(gunzip)) {
      line++;
      yield parseLine(id, part, line, text, validate);
    }
  } catch (err) {
    if (err instanceof CorruptSnapshotError) throw err;
    if (missing(err)) throw new CorruptSnapshotError(id, `${part} is missing`);
    throw new CorruptSnapshotError(id, `${part} after line ${line}: ${(err as Error).message}`);
  } finally {
    source.destroy();
    gunzip.destroy();
  }
}

function parseLine(id: string, part: string, line: number, text: string, validate: boolean): RRPair {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new CorruptSnapshotError(id, `${part} line ${line}: not JSON (${(err as Error).message})`);
  }
  if (!validate) return raw as RRPair;
  const parsed = RRPair.safeParse(raw);
  if (!parsed.success) {
    throw new CorruptSnapshotError(id, `${part} line ${line}: ${describeIssues(parsed.error.issues)}`);
  }
  return parsed.data;
}

/** K-way merge holding one pair per part: parts are few (one per writer), so a scan is enough. */
async function* mergeInCaptureOrder(sources: AsyncGenerator<RRPair>[]): AsyncGenerator<RRPair> {
  const heads: (RRPair | undefined)[] = [];
  try {
    for (const s of sources) heads.push((await s.next()).value ?? undefined);
    for (;;) {
      let pick = -1;
      for (let i = 0; i < heads.length; i++) {
        const h = heads[i];
        if (h && (pick < 0 || capturedBefore(h.startedAt, heads[pick]!.startedAt))) pick = i;
      }
      if (pick < 0) return;
      yield heads[pick]!;
      heads[pick] = (await sources[pick].next()).value ?? undefined;
    }
  } finally {
    await Promise.all(sources.map((s) => s.return(undefined)));
  }
}
