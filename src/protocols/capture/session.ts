/**
 * What the forwarder keeps per sidecar: the last batch number it took (a batch it has seen is
 * not decoded again, so a retry doubles nothing) and the state of the sidecar's HTTP/2
 * connections. HTTP/1.1 exchanges carry everything they need. When a batch is missing (refused,
 * or taken by another forwarder) or this forwarder never saw a connection open (it restarted),
 * the HTTP/2 state of that sidecar cannot be trusted: it is dropped and counted, and frames of
 * connections it does not know are skipped and counted; nothing is ever misread.
 */
import type { PairIds } from '../http1/pair.js';
import { H2Capture, type CapturedPair } from './h2.js';
import { exchangePair } from './h1.js';
import { type H2Open, checkFrames, readFrames } from './frames.js';

export interface BatchContext {
  service: string;
  /** The sidecar's body cap. */
  maxBody: number;
}

export interface DecodedBatch {
  /** This batch number was taken before: nothing was decoded. */
  duplicate: boolean;
  pairs: CapturedPair[];
  /** Exchanges that could not be read, with why. */
  rejected: string[];
  /** Streams of HTTP/2 connections whose state was dropped (a batch was missing, or too many connections). */
  lostStreams: number;
  /** HTTP/2 frames of connections this forwarder has no state for. */
  unknownFrames: number;
}

/** A batch decoded as it is read: the counts are final once `pairs` has been iterated. */
export interface StreamedBatch extends Omit<DecodedBatch, 'pairs'> {
  pairs: Iterable<CapturedPair>;
}

export interface SessionLimits {
  /** HTTP/2 connections tracked per sidecar; a connection opened past it is not recorded. */
  maxConnections: number;
  /** Messages kept per side of a gRPC call. */
  maxMessages?: number;
}

export class TapSession {
  private lastSeq = 0;
  private readonly conns = new Map<number, H2Capture>();

  constructor(
    readonly sidecarId: string,
    private readonly ids: PairIds,
    private readonly limits: SessionLimits,
  ) {}

  get connections(): number {
    return this.conns.size;
  }

  /** Decodes batch `seq` whole; throws TapFormatError when the batch does not parse. */
  decode(seq: number, batch: Buffer, ctx: BatchContext): DecodedBatch {
    const out = this.stream(seq, batch, ctx);
    const pairs = [...out.pairs];
    return { ...out, pairs };
  }

  /**
   * Decodes batch `seq` pair by pair as `pairs` is iterated, so a caller that stores each pair
   * before taking the next never holds a whole batch of them (they die young: cheap to collect).
   * The frames are checked first, so a batch that does not parse throws TapFormatError here,
   * before any pair is handed out.
   */
  stream(seq: number, batch: Buffer, ctx: BatchContext): StreamedBatch {
    const out: StreamedBatch = {
      duplicate: false,
      pairs: [],
      rejected: [],
      lostStreams: 0,
      unknownFrames: 0,
    };
    if (seq <= this.lastSeq) {
      out.duplicate = true;
      return out;
    }
    checkFrames(batch);
    if (this.lastSeq !== 0 && seq !== this.lastSeq + 1) out.lostStreams += this.dropAll();
    this.lastSeq = seq;
    out.pairs = this.pairsOf(batch, ctx, out);
    return out;
  }

  private *pairsOf(batch: Buffer, ctx: BatchContext, out: StreamedBatch): Generator<CapturedPair> {
    const pairCtx = { ...ctx, ids: this.ids };
    for (const f of readFrames(batch)) {
      switch (f.kind) {
        case 'exchange': {
          let pair;
          try {
            pair = exchangePair(f.exchange, pairCtx);
          } catch (err) {
            out.rejected.push(`exchange on connection ${f.exchange.conn}: ${(err as Error).message}`);
            break;
          }
          yield { pair };
          break;
        }
        case 'h2-open':
          out.lostStreams += this.open(f.open, ctx);
          break;
        case 'h2-data':
        case 'h2-gap': {
          const c = this.conns.get(f.conn);
          if (!c) out.unknownFrames++;
          else if (f.kind === 'h2-data') c.data(f.dir, f.bytes, f.t);
          else c.gap(f.dir, f.n, f.t);
          if (c) yield* c.take();
          break;
        }
        case 'h2-close': {
          const c = this.conns.get(f.conn);
          if (!c) {
            out.unknownFrames++;
            break;
          }
          this.conns.delete(f.conn);
          c.close(f.t, f.error);
          yield* c.take();
          break;
        }
        case 'h2-abort':
          // The sidecar counted this connection's open streams as dropped already.
          this.conns.delete(f.conn);
          break;
      }
    }
  }

  /** Drops every HTTP/2 connection's state; returns how many streams were open. */
  dropAll(): number {
    let n = 0;
    for (const c of this.conns.values()) n += c.openStreams;
    this.conns.clear();
    return n;
  }

  private open(open: H2Open, ctx: BatchContext): number {
    const lost = this.conns.get(open.conn)?.openStreams ?? 0;
    this.conns.delete(open.conn);
    if (this.conns.size >= this.limits.maxConnections) return lost;
    const capture = new H2Capture(open, {
      service: ctx.service,
      ids: this.ids,
      maxBody: ctx.maxBody,
      maxMessages: this.limits.maxMessages,
      connectionId: `${this.sidecarId}-${open.conn}`,
    });
    this.conns.set(open.conn, capture);
    return lost;
  }
}
