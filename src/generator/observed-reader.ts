/** Reads an observed file (`observed.ndjson.gz`) back as a stream, one exchange at a time. */
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import zlib from 'node:zlib';
import type { ObservedExchange } from '../model/replay.js';
import { splitLines } from '../store/lines.js';

/** `source`: the file's path, or its bytes as a stream (from the replay results store). */
export async function* readObserved(source: string | Readable): AsyncGenerator<ObservedExchange> {
  const gunzip = zlib.createGunzip();
  // Read errors (a missing file) end the iteration with that error, not an unhandled event.
  const bytes: Readable = typeof source === 'string' ? createReadStream(source) : source;
  bytes.on('error', (err) => gunzip.destroy(err)).pipe(gunzip);
  try {
    for await (const line of splitLines(gunzip)) yield JSON.parse(line) as ObservedExchange;
  } finally {
    bytes.destroy();
    gunzip.destroy();
  }
}
