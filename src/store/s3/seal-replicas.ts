/**
 * Seals a snapshot several forwarder replicas wrote: reads every replica's writer record and
 * writes the one manifest over all their parts, last and only if absent (so a retried seal, or
 * two at once, return the same manifest). A replica whose record is not `flushed` did not answer
 * the seal (it died, or its store writes failed): its completed parts still count, and what it
 * had taken beyond them, as it last reported, is recorded as lost under its name.
 */
import {
  DropCounts,
  FORMAT_VERSION,
  SnapshotManifest,
  type SnapshotWriterPart,
} from '../../model/traffic.js';
import { SnapshotExistsError } from '../errors.js';
import { MANIFEST_FILE, parseManifest } from '../manifest.js';
import { addSummaries, emptySummary } from '../parts-summary.js';
import { isNotFound, isPreconditionFailed, type S3Objects } from './objects.js';
import { readWriterRecords, type WriterRecord } from './writer-record.js';
import { snapshotKey } from './writer.js';

export class NothingToSealError extends Error {
  constructor(id: string, why: string) {
    super(`snapshot "${id}" cannot be sealed: ${why}`);
    this.name = 'NothingToSealError';
  }
}

async function existing(objects: S3Objects, id: string): Promise<SnapshotManifest | undefined> {
  try {
    return parseManifest(id, await objects.getText(snapshotKey(id, MANIFEST_FILE)));
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

function writerPart(r: WriterRecord, unanswered: string[]): SnapshotWriterPart {
  const { pairs, inbound, outbound, bytes } = r.flushed.counts;
  const part: SnapshotWriterPart = {
    writer: r.writer,
    state: r.state === 'flushed' ? 'flushed' : 'lost',
    parts: r.parts,
    pairs,
    inbound,
    outbound,
    bytes,
  };
  if (part.state === 'lost') {
    const why = unanswered.length ? unanswered.join('; ') : 'it did not flush';
    part.lost = {
      pairs: Math.max(0, r.seen.pairs - pairs),
      inbound: Math.max(0, r.seen.inbound - inbound),
      outbound: Math.max(0, r.seen.outbound - outbound),
      bytes: Math.max(0, r.seen.bytes - bytes),
      reason: `did not answer the seal (${why}); counts as of ${r.updatedAt}`,
    };
  }
  return part;
}

export async function sealReplicas(
  objects: S3Objects,
  id: string,
  unanswered: string[],
): Promise<SnapshotManifest> {
  const sealed = await existing(objects, id);
  if (sealed) return sealed;
  const records = (await readWriterRecords(objects, id)).filter((r) => r.state !== 'aborted');
  if (records.length === 0) throw new NothingToSealError(id, 'no forwarder replica recorded it');
  const writers = records.map((r) => writerPart(r, unanswered));
  const parts = writers.flatMap((w) => w.parts);
  if (parts.length === 0) throw new NothingToSealError(id, 'no replica stored any part of it');

  let summary = emptySummary();
  for (const r of records) summary = addSummaries(summary, r.flushed);
  const dropped = DropCounts.parse({
    // Each sidecar reports its running total to whichever replica it reaches: the largest is a floor.
    sidecar: Math.max(...records.map((r) => r.dropped.sidecar)),
    forwarder: records.reduce((n, r) => n + r.dropped.forwarder, 0),
    filtered: records.reduce((n, r) => n + r.dropped.filtered, 0),
  });
  const lost = writers.reduce((n, w) => n + (w.lost?.pairs ?? 0), 0);
  const first = records.reduce((a, b) => (a.createdAt <= b.createdAt ? a : b));
  const manifest = SnapshotManifest.parse({
    formatVersion: FORMAT_VERSION,
    id,
    service: first.spec.service,
    source: first.spec.source,
    createdAt: first.createdAt,
    sealedAt: new Date().toISOString(),
    window: summary.window ?? { start: first.createdAt, end: first.createdAt },
    counts: { ...summary.counts, dropped, ...(lost ? { lost } : {}) },
    endpoints: summary.endpoints,
    otherEndpoints: summary.otherEndpoints,
    ...(first.spec.filters !== undefined ? { filters: first.spec.filters } : {}),
    ...(first.spec.dlp !== undefined ? { dlp: first.spec.dlp } : {}),
    meta: first.spec.meta,
    parts,
    writers,
  });
  try {
    await objects.put(
      snapshotKey(id, MANIFEST_FILE),
      JSON.stringify(manifest, null, 2) + '\n',
      'application/json',
      true,
    );
  } catch (err) {
    if (!isPreconditionFailed(err)) throw err;
    const other = await existing(objects, id);
    if (!other) throw new SnapshotExistsError(id);
    return other;
  }
  return manifest;
}
