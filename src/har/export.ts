/** A snapshot -> HAR 1.2, written entry by entry so a big snapshot is never held in memory. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Writable } from 'node:stream';
import type { Creator, Har } from 'har-format';
import { projectRoot } from '../base/project-root.js';
import type { SnapshotManifest } from '../model/traffic.js';
import type { SnapshotStore } from '../store/types.js';
import { pairToEntry } from './pair-to-entry.js';

let cachedCreator: Creator | undefined;
function creator(): Creator {
  cachedCreator ??= {
    name: 'reprise',
    version: (JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { version: string })
      .version,
  };
  return cachedCreator;
}

const logComment = (m: SnapshotManifest) =>
  `reprise snapshot ${m.id} of service ${m.service} (${m.counts.pairs} pairs, ${m.window.start} .. ${m.window.end})`;

/** The log without its entries; `_service` (not in HAR 1.2) is the service an import files them under. */
const logHead = (m: SnapshotManifest) => ({
  version: '1.2',
  creator: creator(),
  comment: logComment(m),
  _service: m.service,
  pages: [],
});

/**
 * Writes the snapshot as a HAR document to `out`, one entry per line, waiting for the
 * stream to drain. Does not end `out` (it may be stdout). Returns the number of entries.
 */
export async function writeHar(store: SnapshotStore, id: string, out: Writable): Promise<number> {
  const head = logHead(await store.getManifest(id));
  // The head object serialised without its closing brace, then the entries array.
  await write(out, `{"log":${JSON.stringify(head).slice(0, -1)},"entries":[`);
  let n = 0;
  for await (const pair of store.readPairs(id)) {
    await write(out, `${n === 0 ? '\n' : ',\n'}${JSON.stringify(pairToEntry(pair))}`);
    n++;
  }
  await write(out, `${n ? '\n' : ''}]}}\n`);
  return n;
}

/** The whole HAR document in memory: for small snapshots and tests. */
export async function exportHar(store: SnapshotStore, id: string): Promise<Har> {
  const head = logHead(await store.getManifest(id));
  const entries = [];
  for await (const pair of store.readPairs(id)) entries.push(pairToEntry(pair));
  return { log: { ...head, entries } };
}

/** Resolves when `out` can take more; rejects if it fails or closes first (a closed pipe). */
function write(out: Writable, chunk: string): Promise<void> {
  if (out.destroyed || out.writableEnded) return Promise.reject(new Error('HAR output stream is closed'));
  if (out.write(chunk)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      out.off('drain', onDrain);
      out.off('error', onError);
      out.off('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = () => done();
    const onError = (err: Error) => done(err);
    const onClose = () => done(new Error('HAR output stream closed before the export finished'));
    out.on('drain', onDrain);
    out.on('error', onError);
    out.on('close', onClose);
  });
}
