/**
 * Recorded pairs back into what a sidecar's tap ships for them: raw HTTP/1.1 heads and bodies
 * in EXCHANGE frames (src/protocols/capture), so the forwarder's tap path can be fed the same
 * pairs as its NDJSON path.
 */
import type { RRPair } from '../../src/model/traffic.js';
import { bodyBytes } from '../../src/model/body.js';
import { TapWriter, writeExchange } from '../../src/protocols/capture/writer.js';

function head(first: string, headers: [string, string][], extra: [string, string][] = []): Buffer {
  let text = first;
  for (const [n, v] of [...headers, ...extra]) text += `\r\n${n}: ${v}`;
  return Buffer.from(text, 'latin1');
}

function target(pair: RRPair): string {
  const q = pair.request.query;
  return pair.request.path + (q.length ? `?${new URLSearchParams(q).toString()}` : '');
}

const EMPTY = { parts: [], kept: 0, size: 0 };
const captured = (b: Buffer) => (b.length ? { parts: [b], kept: b.length, size: b.length } : EMPTY);

/** The frames of `pairs`, one EXCHANGE each, as one batch. */
export function tapBatch(pairs: RRPair[], startConn = 1): Buffer {
  const w = new TapWriter();
  pairs.forEach((pair, i) => {
    const req = bodyBytes(pair.request.body);
    const res = bodyBytes(pair.response?.body);
    const t = Date.parse(pair.startedAt);
    writeExchange(w, {
      conn: startConn + i,
      facts: {
        outbound: pair.direction === 'outbound',
        https: pair.request.scheme === 'https',
        host: pair.request.host,
        port: pair.request.port,
      },
      startT: t,
      endT: t + pair.durationMs,
      reqHead: head(
        `${pair.request.method} ${target(pair)} HTTP/1.1`,
        pair.request.headers,
        req.length ? [['content-length', String(req.length)]] : [],
      ),
      reqBody: captured(req),
      ...(pair.response && {
        resHead: head(`HTTP/1.1 ${pair.response.status} OK`, pair.response.headers, [
          ['content-length', String(res.length)],
        ]),
      }),
      resBody: captured(res),
      switched: false,
    });
  });
  return w.take();
}
