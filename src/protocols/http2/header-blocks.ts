/**
 * Assembles one direction's header blocks (RFC 9113 6.2, 6.6, 6.10): a HEADERS or PUSH_PROMISE
 * frame, padding and priority removed, joined with the CONTINUATION frames that follow it,
 * bounded in size. Nothing else may come between them on the connection.
 */
import { Flag, FrameError, FrameType } from './frames.js';

export interface HeaderBlock {
  streamId: number;
  type: number;
  /** HEADERS with END_STREAM. */
  endStream: boolean;
  /** PUSH_PROMISE: the stream it promises. */
  promisedId: number;
  /** When its first frame started arriving. */
  t: number;
  bytes: Buffer;
}

interface Pending extends Omit<HeaderBlock, 'bytes'> {
  parts: Buffer[];
  size: number;
}

export class HeaderBlockAssembler {
  private pending: Pending | undefined;

  constructor(private readonly maxBytes: number) {}

  /** Takes a frame of this direction; returns a header block when one is complete. */
  frame(type: number, flags: number, id: number, payload: Buffer, t: number): HeaderBlock | undefined {
    const pending = this.pending;
    if (type === FrameType.CONTINUATION) {
      if (!pending || pending.streamId !== id)
        throw new FrameError(`unexpected CONTINUATION on stream ${id}`);
      pending.parts.push(payload);
      pending.size += payload.length;
      if (pending.size > this.maxBytes) {
        throw new FrameError(`header block over ${this.maxBytes} bytes (stream ${id})`);
      }
      return flags & Flag.END_HEADERS ? this.finish(pending) : undefined;
    }
    if (pending)
      throw new FrameError(`frame type ${type} inside a header block of stream ${pending.streamId}`);
    if (type !== FrameType.HEADERS && type !== FrameType.PUSH_PROMISE) return undefined;
    let start = 0;
    let end = payload.length;
    if (flags & Flag.PADDED) {
      end -= payload[0];
      start = 1;
    }
    if (type === FrameType.HEADERS && flags & Flag.PRIORITY) start += 5;
    let promisedId = 0;
    if (type === FrameType.PUSH_PROMISE) {
      if (end < start + 4) throw new FrameError(`PUSH_PROMISE too short (stream ${id})`);
      promisedId = payload.readUInt32BE(start) & 0x7fffffff;
      start += 4;
    }
    if (end < start) throw new FrameError(`padding longer than the frame (stream ${id})`);
    const block: Pending = {
      streamId: id,
      type,
      endStream: type === FrameType.HEADERS && (flags & Flag.END_STREAM) !== 0,
      promisedId,
      t,
      parts: [payload.subarray(start, end)],
      size: end - start,
    };
    if (flags & Flag.END_HEADERS) return this.finish(block);
    this.pending = block;
    return undefined;
  }

  private finish(p: Pending): HeaderBlock {
    this.pending = undefined;
    const bytes = p.parts.length === 1 ? p.parts[0] : Buffer.concat(p.parts, p.size);
    return {
      streamId: p.streamId,
      type: p.type,
      endStream: p.endStream,
      promisedId: p.promisedId,
      t: p.t,
      bytes,
    };
  }
}
