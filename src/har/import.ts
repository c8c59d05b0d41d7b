/** HAR 1.2 -> a sealed snapshot (source `har-import`). */
import { readFile } from 'node:fs/promises';
import {
  DEFAULT_MAX_BODY_BYTES,
  type Direction,
  type RRPair,
  type SnapshotManifest,
} from '../model/traffic.js';
import type { SnapshotStore } from '../store/types.js';
import { formatIssuePath } from '../store/issue-path.js';
import { HarFormatError } from './errors.js';
import { HarEntry, HarLog } from './schema.js';
import { entryToPair, type EntryOptions } from './entry-to-pair.js';
import { isHttpUrl } from './url.js';

/** The service of imported entries when neither the caller nor the document names one. */
export const DEFAULT_HAR_SERVICE = 'app';

export interface HarImportOptions {
  /** Default: the document's `_service` (Reprise's export writes it), else `app`. */
  service?: string;
  /**
   * Entries that do not say (`_direction`, which Reprise's export writes) are inbound by default:
   * the HAR recorded calls made to the service.
   */
  direction?: Direction;
  /** Snapshot id; generated when absent. */
  id?: string;
  maxBodyBytes?: number;
}

export interface HarDocument {
  creator: { name: string; version: string };
  service: string;
  /** Entries that are not HTTP(S) requests (data:, blob:, extension URLs): left out. */
  skipped: number;
  /** One pair per HTTP entry, made lazily so they can be written as they come. */
  pairs(idPrefix: string): Generator<RRPair>;
}

/**
 * Checks the document's shape. An invalid entry throws (while iterating) a HarFormatError
 * naming its JSON path, e.g. `log.entries[3].request.url: expected a URL`.
 */
export function readHar(har: unknown, opts: HarImportOptions): HarDocument {
  const doc = HarLog.safeParse(har);
  if (!doc.success) {
    const first = doc.error.issues[0];
    throw new HarFormatError(formatIssuePath(first.path), first.message);
  }
  const { log } = doc.data;
  const service = opts.service ?? log._service ?? DEFAULT_HAR_SERVICE;
  const entryOpts: EntryOptions = {
    service,
    direction: opts.direction ?? 'inbound',
    maxBodyBytes: opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
  };
  const skipped = log.entries.filter((e) => {
    const url = (e as { request?: { url?: unknown } } | null)?.request?.url;
    return typeof url === 'string' && URL.canParse(url) && !isHttpUrl(url);
  }).length;
  function* pairs(idPrefix: string): Generator<RRPair> {
    for (let i = 0; i < log.entries.length; i++) {
      const at = `log.entries[${i}]`;
      const parsed = HarEntry.safeParse(log.entries[i]);
      if (!parsed.success) {
        const first = parsed.error.issues[0];
        throw new HarFormatError(formatIssuePath(first.path, at), first.message);
      }
      const pair = entryToPair(parsed.data, `${idPrefix}-${i + 1}`, at, entryOpts);
      if (pair) yield pair;
    }
  }
  return {
    creator: { name: log.creator?.name ?? '', version: log.creator?.version ?? '' },
    service,
    skipped,
    pairs,
  };
}

/** All pairs of a HAR document, in memory: for small documents and tests. */
export function harToPairs(har: unknown, opts: HarImportOptions): RRPair[] {
  return [...readHar(har, opts).pairs('har')];
}

/** Writes the HAR's entries as a new sealed snapshot; nothing is left behind on a bad entry. */
export async function importHar(
  store: SnapshotStore,
  har: unknown,
  opts: HarImportOptions,
): Promise<SnapshotManifest> {
  const doc = readHar(har, opts);
  const meta: Record<string, string> = {
    harCreator: doc.creator.name,
    harCreatorVersion: doc.creator.version,
  };
  if (doc.skipped) meta.harSkippedEntries = String(doc.skipped);
  const writer = await store.createWriter({ id: opts.id, service: doc.service, source: 'har-import', meta });
  try {
    for (const pair of doc.pairs(writer.id)) await writer.append(pair);
  } catch (err) {
    await writer.abort();
    throw err;
  }
  return writer.seal();
}

/** Reads and parses a HAR file, then imports it. */
export async function importHarFile(
  store: SnapshotStore,
  file: string,
  opts: HarImportOptions,
): Promise<SnapshotManifest> {
  const text = await readFile(file, 'utf8');
  let har: unknown;
  try {
    har = JSON.parse(text);
  } catch (err) {
    throw new HarFormatError('', `${file} is not JSON (${(err as Error).message}); expected a HAR 1.2 file`);
  }
  return importHar(store, har, opts);
}
