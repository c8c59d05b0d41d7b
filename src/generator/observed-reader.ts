/** Reads an observed file (`observed.ndjson.gz`) back as a stream, one exchange at a time. */
import { createReadStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import zlib from 'node:zlib';
import type { ObservedExchange } from '../model/replay.js';

export async function* readObserved(file: string): AsyncGenerator<ObservedExchange> {
  const gunzip = zlib.createGunzip();
  // Read errors (a missing file) end the iteration with that error, not an unhandled event.
  createReadStream(file)
    .on('error', (err) => gunzip.destroy(err))
    .pipe(gunzip);
  const decoder = new StringDecoder('utf8');
  let rest = '';
  for await (const chunk of gunzip) {
    const lines = (rest + decoder.write(chunk as Buffer)).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) if (line) yield JSON.parse(line) as ObservedExchange;
  }
  rest += decoder.end();
  if (rest) yield JSON.parse(rest) as ObservedExchange;
}
