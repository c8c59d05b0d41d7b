/** Tap batches as a sidecar ships them (one EXCHANGE frame per request), and their POST. */
import { TapWriter, writeExchange } from '../../src/protocols/capture/writer.js';

const EMPTY = { parts: [], kept: 0, size: 0 };

export interface TapBatchOptions {
  /** The response body of each path (default `{"path":PATH}`). */
  body?: (path: string) => string;
  /** Leave out the last bytes of the batch (a frame cut short). */
  cutLastBytes?: number;
  /** The exchange at this index gets a request line that does not parse. */
  badHeadAt?: number;
}

/** One EXCHANGE frame per path: GET PATH on shop.test answered 200 with a small JSON body. */
export function tapBatch(paths: string[], opts: TapBatchOptions = {}): Buffer {
  const w = new TapWriter();
  paths.forEach((p, i) => {
    const body = Buffer.from(opts.body ? opts.body(p) : `{"path":"${p}"}`);
    const reqHead = i === opts.badHeadAt ? 'GET-not-a-request-line' : `GET ${p} HTTP/1.1\r\nhost: shop.test`;
    writeExchange(w, {
      conn: i + 1,
      facts: { outbound: false, https: false, host: 'shop.test', port: 80 },
      startT: 1_700_000_000_000 + i,
      endT: 1_700_000_000_002 + i,
      reqHead: Buffer.from(reqHead, 'latin1'),
      reqBody: EMPTY,
      resHead: Buffer.from(`HTTP/1.1 200 OK\r\ncontent-length: ${body.length}`, 'latin1'),
      resBody: { parts: [body], kept: body.length, size: body.length },
      switched: false,
    });
  });
  const out = w.take();
  return opts.cutLastBytes ? out.subarray(0, out.length - opts.cutLastBytes) : out;
}

export interface TapAnswer {
  status: number;
  body: Record<string, unknown>;
}

/** POSTs batch `seq` of `sidecar` (service `shop`) to a forwarder's /v1/tap. */
export async function postTap(url: string, seq: number, body: Buffer, sidecar: string): Promise<TapAnswer> {
  const res = await fetch(`${url}/v1/tap`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-reprise-tap',
      'x-reprise-sidecar': sidecar,
      'x-reprise-seq': String(seq),
      'x-reprise-service': 'shop',
    },
    body,
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
