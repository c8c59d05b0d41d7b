/**
 * The record each forwarder replica keeps beside its parts of a shared recording
 * (`snapshots/<id>/writers/<writer>.json`): the snapshot's spec, the parts it completed and what
 * they hold, and how many pairs it had taken when it last wrote (flushed or not). Rewritten at
 * every flush; the seal reads them all to write one manifest, and counts what a replica that
 * never flushed its last part lost.
 */
import { z } from 'zod';
import { DropCounts, TRAFFIC_PART } from '../../model/traffic.js';
import { PartsSummary } from '../parts-summary.js';
import { isNotFound, type S3Objects } from './objects.js';
import { snapshotKey } from './writer.js';

const count = z.number().int().nonnegative();

export const WriterRecord = z.object({
  writer: z.string(),
  snapshotId: z.string(),
  /** open: writing; flushed: every pair it took is in its parts; aborted: its parts are removed. */
  state: z.enum(['open', 'flushed', 'aborted']),
  createdAt: z.string(),
  updatedAt: z.string(),
  spec: z.object({
    service: z.string(),
    source: z.enum(['capture', 'har-import']),
    filters: z.unknown().optional(),
    dlp: z.unknown().optional(),
    meta: z.record(z.string(), z.string()).default({}),
  }),
  /** Completed parts, in this writer's capture order. */
  parts: z.array(z.string().regex(TRAFFIC_PART)),
  /** What the completed parts hold. */
  flushed: PartsSummary,
  /** Pairs taken so far (completed parts plus the buffer) when this record was written. */
  seen: z.object({ pairs: count, inbound: count, outbound: count, bytes: count }),
  dropped: DropCounts,
});
export type WriterRecord = z.infer<typeof WriterRecord>;

const WRITERS = 'writers/';
export const writerRecordKey = (id: string, writer: string) => snapshotKey(id, `${WRITERS}${writer}.json`);

export async function putWriterRecord(objects: S3Objects, record: WriterRecord): Promise<void> {
  await objects.put(
    writerRecordKey(record.snapshotId, record.writer),
    JSON.stringify(record) + '\n',
    'application/json',
  );
}

/** Every writer record of a snapshot; one that cannot be read is an error naming its key. */
export async function readWriterRecords(objects: S3Objects, id: string): Promise<WriterRecord[]> {
  const { objects: found } = await objects.list(snapshotKey(id, WRITERS));
  const records: WriterRecord[] = [];
  for (const o of found) {
    if (!o.key.endsWith('.json')) continue;
    let text: string;
    try {
      text = await objects.getText(o.key);
    } catch (err) {
      if (isNotFound(err)) continue; // removed since the listing (an abort)
      throw err;
    }
    const parsed = WriterRecord.safeParse(JSON.parse(text));
    if (!parsed.success)
      throw new Error(`${objects.describe(o.key)}: not a writer record (${parsed.error.message})`);
    records.push(parsed.data);
  }
  return records.sort((a, b) => a.writer.localeCompare(b.writer));
}
