/** Feeds teed connections to the HTTP/2 decoder: in any chunking, through the tap, or after an h2c upgrade. */
import {
  type H2DecodeError,
  type H2Limits,
  type H2Stats,
  H2ConnectionDecoder,
} from '../../src/protocols/http2/connection.js';
import type { H2Exchange } from '../../src/protocols/http2/exchange.js';
import { H2TapSlicer } from '../../src/protocols/http2/tap.js';
import type { TeeEvent } from './peers.js';

export interface Decoded {
  exchanges: H2Exchange[];
  errors: H2DecodeError[];
  stats: H2Stats;
}

export interface FeedOptions {
  limits?: H2Limits;
  /** Re-cut every chunk into pieces of this many bytes, or of random sizes (1-64). */
  split?: number | 'random';
  /** Pass the bytes through an H2TapSlicer with this body cap first (gaps reach the decoder). */
  tapMaxBody?: number;
  /** The connection starts with an HTTP/1.1 `Upgrade: h2c` request and its 101. */
  upgrade?: boolean;
}

export function decodeEvents(events: TeeEvent[], opts: FeedOptions = {}): Decoded {
  const exchanges: H2Exchange[] = [];
  const errors: H2DecodeError[] = [];
  const dec = new H2ConnectionDecoder(
    { onExchange: (e) => exchanges.push(e), onError: (e) => errors.push(e) },
    opts.limits,
  );
  let t = 0;
  const sinks = ([0, 1] as const).map((dir) => {
    if (opts.tapMaxBody === undefined) return (b: Buffer) => dec.push(dir, b, t);
    const tap = new H2TapSlicer(
      { bytes: (b) => dec.push(dir, b, t), gap: (n) => dec.gap(dir, n, t) },
      opts.tapMaxBody,
      { preface: dir === 0 },
    );
    return (b: Buffer) => tap.push(b);
  });
  const upgrade = opts.upgrade ? new UpgradeSplitter(dec) : undefined;
  for (const ev of events) {
    t = ev.t;
    let bytes: Buffer | undefined = ev.bytes;
    if (upgrade) bytes = upgrade.take(ev.dir, bytes, t);
    if (!bytes || bytes.length === 0) continue;
    for (const piece of cut(bytes, opts.split)) sinks[ev.dir](piece);
  }
  dec.end(t);
  return { exchanges, errors, stats: dec.stats };
}

function cut(bytes: Buffer, split: FeedOptions['split']): Buffer[] {
  if (split === undefined) return [bytes];
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length;) {
    const n = split === 'random' ? 1 + Math.floor(Math.random() * 64) : split;
    out.push(bytes.subarray(i, i + n));
    i += n;
  }
  return out;
}

/**
 * Test glue for what the HTTP/1.1 side of the recorder will do: hold each direction until its
 * HTTP/1.1 head (request; then the 101) has passed, hand the request to the decoder, pass the rest.
 */
class UpgradeSplitter {
  private held: [Buffer, Buffer] = [Buffer.alloc(0), Buffer.alloc(0)];
  private through: [boolean, boolean] = [false, false];
  private request: { method: string; target: string; headers: [string, string][] } | undefined;

  constructor(private readonly dec: H2ConnectionDecoder) {}

  take(dir: 0 | 1, bytes: Buffer, t: number): Buffer | undefined {
    if (this.through[dir]) return bytes;
    const all = Buffer.concat([this.held[dir], bytes]);
    const end = all.indexOf('\r\n\r\n');
    if (end === -1) {
      this.held[dir] = all;
      return undefined;
    }
    const lines = all.toString('latin1', 0, end).split('\r\n');
    if (dir === 0) {
      const [method, target] = lines[0].split(' ');
      const headers = lines
        .slice(1)
        .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()] as [string, string]);
      this.request = { method, target, headers };
    } else {
      if (!lines[0].startsWith('HTTP/1.1 101')) throw new Error(`no upgrade: ${lines[0]}`);
      this.dec.startAfterUpgrade({ ...this.request!, scheme: 'http' }, t);
    }
    this.through[dir] = true;
    return all.subarray(end + 4);
  }
}
