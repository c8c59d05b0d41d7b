/** GoReplay's .gor file format: writing one to replay, counting what a capture wrote. */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

/** Where writeGor's timestamps start (the recordings' own start, bench/lib/recordings.ts). */
const T0 = Date.parse('2024-03-10T12:00:00Z');

/** The monkey line GoReplay puts between records in its .gor files. */
export const GOR_SEPARATOR = Buffer.from('\n\u{1F435}\u{1F648}\u{1F649}\n');

/** Requests, responses and complete request+response pairs in a .gor file. */
export function countGor(file: Buffer): { requests: number; responses: number; pairs: number } {
  const seen = new Map<string, number>();
  let requests = 0;
  let responses = 0;
  let pairs = 0;
  for (let at = 0; at < file.length;) {
    const next = file.indexOf(GOR_SEPARATOR, at);
    const end = next === -1 ? file.length : next;
    // Each record starts with `TYPE ID TIMESTAMP LATENCY\n`: 1 = request, 2 = response.
    const nl = file.indexOf(10, at);
    const [type, id] = file.toString('latin1', at, Math.min(nl === -1 ? end : nl, end)).split(' ');
    const bit = type === '1' ? 1 : type === '2' ? 2 : 0;
    if (bit) {
      if (bit === 1) requests++;
      else responses++;
      const flags = (seen.get(id) ?? 0) | bit;
      if (flags === 3) {
        pairs++;
        seen.delete(id);
      } else seen.set(id, flags);
    }
    at = next === -1 ? file.length : next + GOR_SEPARATOR.length;
  }
  return { requests, responses, pairs };
}

/**
 * GoReplay's file format: per request a header line (`1 <id> <timestamp ns> 0`), the raw
 * request, and the separator. Timestamps are 1 us apart so that replay speed is not held back
 * by the recorded timing.
 */
export async function writeGor(file: string, requests: Iterable<Buffer>): Promise<void> {
  const out = createWriteStream(file);
  let i = 0;
  for (const raw of requests) {
    const ok = out.write(
      Buffer.concat([
        Buffer.from(
          `1 ${(i + 1).toString(16).padStart(24, '0')} ${BigInt(T0) * 1_000_000n + BigInt(i) * 1000n} 0\n`,
        ),
        raw,
        GOR_SEPARATOR,
      ]),
    );
    i++;
    if (!ok) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}
