/**
 * The cheap side of HTTP/2 capture, for the sidecar: one direction's bytes are passed on as
 * they came, except DATA payload bytes of a stream past its body cap, which become a count (a
 * gap) that H2ConnectionDecoder.gap accepts. It reads only the 9-byte frame headers (and a
 * padded DATA frame's pad length, which it always passes on): no HPACK, no buffering. The sink
 * sees each frame header too (the sidecar counts streams from them).
 */

export interface TapSink {
  bytes(chunk: Buffer): void;
  gap(n: number): void;
  /** Each frame header as it is read (before its payload is passed on). */
  frame?(type: number, flags: number, streamId: number): void;
}

const MAX_TRACKED_STREAMS = 1024;

export class H2TapSlicer {
  private prefaceLeft: number;
  private readonly hdr = Buffer.alloc(9);
  private hdrLen = 0;
  /** Payload bytes left in the current frame, and whether they are DATA to be capped. */
  private left = 0;
  private data = false;
  private keepFirst = false;
  private endsStream = false;
  private streamId = 0;
  /** DATA bytes passed on per stream. */
  private readonly passed = new Map<number, number>();
  /** Bytes turned into gaps so far (for the sidecar's counters). */
  skipped = 0;

  constructor(
    private readonly sink: TapSink,
    private readonly maxBody: number,
    opts: { preface: boolean },
  ) {
    this.prefaceLeft = opts.preface ? 24 : 0;
  }

  push(chunk: Buffer): void {
    let off = 0;
    let passFrom = 0;
    const len = chunk.length;
    while (off < len) {
      if (this.prefaceLeft > 0) {
        const n = Math.min(this.prefaceLeft, len - off);
        this.prefaceLeft -= n;
        off += n;
      } else if (this.left === 0) {
        const n = Math.min(9 - this.hdrLen, len - off);
        chunk.copy(this.hdr, this.hdrLen, off, off + n);
        this.hdrLen += n;
        off += n;
        if (this.hdrLen === 9) this.startFrame();
      } else if (!this.data || this.keepFirst) {
        const n = this.keepFirst ? 1 : Math.min(this.left, len - off);
        this.keepFirst = false;
        this.left -= n;
        off += n;
        if (this.left === 0 && this.endsStream) this.passed.delete(this.streamId);
      } else {
        const used = this.passed.get(this.streamId) ?? 0;
        const room = Math.max(0, this.maxBody - used);
        const n = Math.min(this.left, len - off);
        const pass = Math.min(room, n);
        if (pass < n) {
          // Pass what fits, then the rest of this piece as a gap.
          if (off + pass > passFrom) this.sink.bytes(chunk.subarray(passFrom, off + pass));
          this.sink.gap(n - pass);
          this.skipped += n - pass;
          passFrom = off + n;
        }
        this.passed.set(this.streamId, used + pass);
        this.left -= n;
        off += n;
        if (this.left === 0 && this.endsStream) this.passed.delete(this.streamId);
      }
    }
    if (passFrom < len) this.sink.bytes(passFrom === 0 ? chunk : chunk.subarray(passFrom));
  }

  private startFrame(): void {
    const h = this.hdr;
    this.hdrLen = 0;
    this.left = (h[0] << 16) | (h[1] << 8) | h[2];
    const type = h[3];
    const flags = h[4];
    this.streamId = h.readUInt32BE(5) & 0x7fffffff;
    this.data = type === 0;
    this.sink.frame?.(type, flags, this.streamId);
    // The pad length of a padded DATA frame is needed to read the frame: never skipped.
    this.keepFirst = this.data && (flags & 0x8) !== 0 && this.left > 0;
    this.endsStream = this.data && (flags & 0x1) !== 0;
    if (!this.data) return;
    if (this.endsStream && this.left === 0) this.passed.delete(this.streamId);
    else if (!this.passed.has(this.streamId) && this.passed.size >= MAX_TRACKED_STREAMS) {
      // Forgetting the counts lets more bytes through; the decoder's own cap still holds.
      this.passed.clear();
    }
  }
}
