/**
 * The tap of one HTTP/2 connection: its bytes go to the shipper as they came (DATA payloads
 * past the body cap become gap counts, H2TapSlicer), and its streams are counted from the frame
 * headers alone (opened by a HEADERS frame, ended by END_STREAM from both sides or a reset), so
 * what is dropped is counted in streams. Decoding (HPACK, pairs, gRPC) is the forwarder's.
 * When its bytes stop fitting in the buffer, or the forwarder lost its state, the connection is
 * no longer shipped: its open and later streams are counted as dropped.
 */
import { FrameType } from '../src/protocols/http2/frames.js';
import { H2TapSlicer } from '../src/protocols/http2/tap.js';
import type { H2Open } from '../src/protocols/capture/frames.js';
import type { ShippedConnection, TapOut } from './shipper.js';
import type { Counters } from './stats.js';

const END_STREAM = 0x1;
const CLIENT_ENDED = 1;
const SERVER_ENDED = 2;
/** Streams counted at once per connection; more are proxied without being counted. */
const MAX_STREAMS = 1024;

/** `ship`: frames go to the forwarder; `count`: nobody reads them; `dropped`: they no longer fit. */
type Mode = 'ship' | 'count' | 'dropped' | 'ignored';

export class H2Tap implements ShippedConnection {
  private readonly slicers: [H2TapSlicer, H2TapSlicer];
  /** Open streams: which sides have ended them. */
  private readonly streams = new Map<number, number>();
  private lastClientId = 0;
  private lastPushId = 0;
  /** Streams ended since the last bytes were written (they are counted with those bytes). */
  private ended = 0;
  private t = 0;
  private mode: Mode;
  /** The first frame of each side must be SETTINGS (RFC 9113 3.4): else this is not HTTP/2. */
  private readonly settingsSeen = [false, false];
  private invalid = false;
  /** Called when the last open stream ends (used while shutting down). */
  onIdle: (() => void) | undefined;

  constructor(
    private readonly shipper: TapOut,
    private readonly counters: Counters,
    private readonly open: H2Open,
    opts: { maxBody: number; ignored: boolean; onInvalid(): void },
  ) {
    // The client sends the connection preface first, after an h2c upgrade too.
    this.slicers = [0, 1].map(
      (dir) =>
        new H2TapSlicer(
          {
            bytes: (b) => this.bytes(dir as 0 | 1, b),
            gap: (n) => this.gap(dir as 0 | 1, n),
            frame: (type, flags, id) => this.frame(dir as 0 | 1, type, flags, id, opts.onInvalid),
          },
          opts.maxBody,
          { preface: dir === 0 },
        ),
    ) as [H2TapSlicer, H2TapSlicer];
    if (open.upgrade) {
      // The HTTP/1.1 request is stream 1, already ended by the client.
      this.streams.set(1, CLIENT_ENDED);
      this.lastClientId = 1;
    }
    if (opts.ignored) this.mode = 'ignored';
    else if (!shipper.shipping) this.mode = 'count';
    else this.mode = shipper.h2Open(open, this) ? 'ship' : 'dropped';
  }

  get idle(): boolean {
    return this.streams.size === 0;
  }

  push(dir: 0 | 1, chunk: Buffer, t: number): void {
    this.t = t;
    this.slicers[dir].push(chunk);
  }

  /** Both sides closed: streams still open are recorded with an error by the forwarder. */
  finish(t: number, error?: { code: string; message: string }): void {
    const open = this.streams.size;
    this.streams.clear();
    if (this.mode === 'ship') {
      this.shipper.h2Close(this, this.open.conn, t, this.ended + open, error);
      this.ended = 0;
    } else this.count(open);
  }

  /** The forwarder has lost this connection's state: nothing more is shipped. */
  lost(): void {
    if (this.mode !== 'ship') return;
    this.shipper.release(this);
    this.stopShipping();
  }

  /** The bytes are not HTTP/2 after all: the forwarder forgets the connection, nothing is counted. */
  abandon(): void {
    if (this.mode === 'ship') this.shipper.h2Abort(this, this.open.conn);
    this.mode = 'ignored';
    this.streams.clear();
    this.ended = 0;
  }

  private bytes(dir: 0 | 1, b: Buffer): void {
    if (this.mode !== 'ship') return;
    if (this.shipper.h2Data(this.open.conn, dir, this.t, b, this.ended)) this.ended = 0;
    else this.drop();
  }

  private gap(dir: 0 | 1, n: number): void {
    if (this.mode === 'ship' && !this.shipper.h2Gap(this.open.conn, dir, this.t, n)) this.drop();
  }

  /** The buffer is full: the forwarder forgets the connection; its streams are counted dropped. */
  private drop(): void {
    this.shipper.h2Abort(this, this.open.conn);
    this.stopShipping();
  }

  private stopShipping(): void {
    this.mode = 'dropped';
    // Open streams are dropped now and forgotten (their later frames count nothing).
    this.count(this.ended + this.streams.size);
    this.ended = 0;
    this.streams.clear();
  }

  /** Streams that ended without being shipped. */
  private count(n: number): void {
    if (n === 0) return;
    if (this.mode === 'ignored') this.counters.ignored += n;
    else {
      this.counters.pairs += n;
      if (this.mode === 'dropped') this.counters.dropped += n;
    }
  }

  private frame(dir: 0 | 1, type: number, flags: number, id: number, onInvalid: () => void): void {
    if (this.invalid) return;
    if (!this.settingsSeen[dir]) {
      if (type !== FrameType.SETTINGS || id !== 0) {
        this.invalid = true;
        onInvalid();
        return;
      }
      this.settingsSeen[dir] = true;
    }
    if (type === FrameType.HEADERS) {
      if (dir === 0 && id & 1 && id > this.lastClientId) {
        this.lastClientId = id;
        if (this.streams.size < MAX_STREAMS) this.streams.set(id, 0);
      } else if (dir === 1 && (id & 1) === 0 && id > this.lastPushId) {
        // A pushed stream's response: the request side came in its PUSH_PROMISE.
        this.lastPushId = id;
        if (this.streams.size < MAX_STREAMS) this.streams.set(id, CLIENT_ENDED);
      }
      if (flags & END_STREAM) this.end(id, dir === 0 ? CLIENT_ENDED : SERVER_ENDED);
    } else if (type === FrameType.DATA) {
      if (flags & END_STREAM) this.end(id, dir === 0 ? CLIENT_ENDED : SERVER_ENDED);
    } else if (type === FrameType.RST_STREAM) this.end(id, CLIENT_ENDED | SERVER_ENDED);
  }

  private end(id: number, side: number): void {
    const v = this.streams.get(id);
    if (v === undefined) return;
    if ((v | side) !== (CLIENT_ENDED | SERVER_ENDED)) {
      this.streams.set(id, v | side);
      return;
    }
    this.streams.delete(id);
    if (this.mode === 'ship') this.ended++;
    else this.count(1);
    if (this.streams.size === 0) this.onIdle?.();
  }
}
