/** What the HTTP/2 decoder reports per stream: one request/response exchange, and its bodies. */
import type { HeaderField } from './hpack.js';

/**
 * A message body as it arrived in DATA frames: the first `max` bytes kept as slices with the
 * time each arrived (gRPC needs per-message times), the true size counted past the cap, and
 * bytes the tap skipped (gaps) counted but never kept.
 */
export class StreamBody {
  readonly chunks: Buffer[] = [];
  readonly times: number[] = [];
  kept = 0;
  /** Bytes on the wire, kept or not. */
  size = 0;
  /** Bytes not kept because of a gap from the tap or a cap here. */
  dropped = 0;

  constructor(private readonly max: number) {}

  /** Adds DATA bytes, or a count of skipped bytes; returns how many bytes were kept. */
  add(bytes: Buffer | number, t: number, budget: number): number {
    if (typeof bytes === 'number') {
      this.size += bytes;
      this.dropped += bytes;
      return 0;
    }
    this.size += bytes.length;
    // Once anything is dropped the kept bytes stay a prefix: keep no more.
    const room = this.dropped > 0 ? 0 : Math.min(this.max - this.kept, budget);
    if (room <= 0) {
      this.dropped += bytes.length;
      return 0;
    }
    const part = bytes.length <= room ? bytes : bytes.subarray(0, room);
    this.chunks.push(part);
    this.times.push(t);
    this.kept += part.length;
    this.dropped += bytes.length - part.length;
    return part.length;
  }

  get truncated(): boolean {
    return this.dropped > 0;
  }

  bytes(): Buffer {
    return this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.kept);
  }
}

export interface H2Message {
  /** The header list as sent, pseudo-headers first. */
  headers: HeaderField[];
  /** Positions in `headers` sent never-indexed (RFC 7541 6.2.3). */
  neverIndexed: number[];
  /** Fields were dropped past the header list size limit. */
  headersTruncated: boolean;
  body: StreamBody;
  trailers?: HeaderField[];
  /** When the first byte of its HEADERS frame arrived, and when END_STREAM arrived. */
  startT: number;
  endT?: number;
}

export interface StreamReset {
  by: 'client' | 'server';
  /** The RST_STREAM error code and its RFC 9113 name. */
  code: number;
  name: string;
  t: number;
}

export interface GoAway {
  by: 'client' | 'server';
  lastStreamId: number;
  code: number;
  name: string;
  debug: string;
  t: number;
}

export interface H2Exchange {
  streamId: number;
  request: H2Message;
  response?: H2Message;
  /** 1xx response heads before the final one, in order. */
  informational?: HeaderField[][];
  /** A server push: the stream whose PUSH_PROMISE carried this request. */
  pushedBy?: number;
  /** Stream 1 of a connection upgraded from HTTP/1.1 (`Upgrade: h2c`). */
  upgraded?: boolean;
  reset?: StreamReset;
  goaway?: GoAway;
  /** Why the exchange is incomplete (connection closed, decode failure, refused by GOAWAY). */
  error?: { code: string; message: string };
  /** Earliest and latest time of anything in the exchange. */
  startT: number;
  endT: number;
}

const ERROR_NAMES = [
  'NO_ERROR',
  'PROTOCOL_ERROR',
  'INTERNAL_ERROR',
  'FLOW_CONTROL_ERROR',
  'SETTINGS_TIMEOUT',
  'STREAM_CLOSED',
  'FRAME_SIZE_ERROR',
  'REFUSED_STREAM',
  'CANCEL',
  'COMPRESSION_ERROR',
  'CONNECT_ERROR',
  'ENHANCE_YOUR_CALM',
  'INADEQUATE_SECURITY',
  'HTTP_1_1_REQUIRED',
];

/** The RFC 9113 name of an error code (`0x1f` style for unknown ones). */
export function errorCodeName(code: number): string {
  return ERROR_NAMES[code] ?? `0x${code.toString(16)}`;
}

/** Value of the first header named `name` (lowercase), or undefined. */
export function header(headers: HeaderField[], name: string): string | undefined {
  for (const [n, v] of headers) if (n === name) return v;
  return undefined;
}
