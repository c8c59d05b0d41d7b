/** Splits a streamed NDJSON body into lines without ever holding more than the batch limit. */

export class BatchTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`batch larger than --max-batch-bytes (${maxBytes} bytes): send smaller batches`);
    this.name = 'BatchTooLargeError';
  }
}

/**
 * Yields the complete lines of each chunk as it arrives (one await per chunk, not per line).
 * Throws BatchTooLargeError as soon as the body passes `maxBytes`; a line cut across chunks is
 * the only thing kept between chunks.
 */
export async function* ndjsonLines(
  source: AsyncIterable<Buffer>,
  maxBytes: number,
): AsyncGenerator<string[]> {
  let total = 0;
  let partial: Buffer[] = [];
  for await (const chunk of source) {
    total += chunk.length;
    if (total > maxBytes) throw new BatchTooLargeError(maxBytes);
    let nl = chunk.indexOf(10);
    if (nl < 0) {
      partial.push(chunk);
      continue;
    }
    const lines: string[] = [];
    // The first newline ends the line begun in earlier chunks.
    lines.push(
      partial.length
        ? Buffer.concat([...partial, chunk.subarray(0, nl)]).toString('utf8')
        : chunk.toString('utf8', 0, nl),
    );
    partial = [];
    let start = nl + 1;
    while ((nl = chunk.indexOf(10, start)) >= 0) {
      lines.push(chunk.toString('utf8', start, nl));
      start = nl + 1;
    }
    if (start < chunk.length) partial.push(chunk.subarray(start));
    yield lines;
  }
  if (partial.length) yield [Buffer.concat(partial).toString('utf8')];
}
