/**
 * The tap of one proxied connection. The splice hands over each chunk after forwarding it; the
 * tap finds message boundaries (src/protocols/http1/parser.ts reads only what framing needs),
 * keeps views of the heads and of the body bytes up to the cap, and hands each finished
 * exchange whole to the shipper: parsing headers and building pairs is the forwarder's work.
 * Responses pair with requests first-in first-out (keep-alive and pipelining); interim 1xx
 * responses are skipped; a 101 or a CONNECT's 2xx ends the recording of the connection after
 * that exchange, except `Upgrade: h2c`, which goes on as HTTP/2 (h2-tap.ts), as does a
 * connection that starts with the HTTP/2 preface. Nothing here may throw into the proxy: on
 * bytes it cannot read it stops recording the connection and counts it.
 */
import { performance } from 'node:perf_hooks';
import { Fifo } from '../src/base/fifo.js';
import type { ConnFacts, H2Via } from '../src/protocols/capture/frames.js';
import type { ExchangeParts } from '../src/protocols/capture/writer.js';
import { CappedBody } from '../src/protocols/http1/body.js';
import {
  type HeadFacts,
  Http1Parser,
  ParseError,
  type ParserHandler,
} from '../src/protocols/http1/parser.js';
import { looksLikeH2Preface } from '../src/protocols/http2/frames.js';
import { H2Tap } from './h2-tap.js';
import type { Ignore } from './ignore.js';
import type { TapOut } from './shipper.js';
import type { Counters } from './stats.js';
import { type ChunkReader, queueChunk, readQueuedChunks } from './tap-queue.js';

export interface TapContext {
  shipper: TapOut;
  maxBody: number;
  ignore: Ignore;
  counters: Counters;
  /** A new connection id (per sidecar process). */
  nextConn(): number;
  onError?(err: unknown, facts: TapFacts): void;
}

export interface TapFacts extends ConnFacts {
  /** Where the proxy connected to (HTTP/2: the forwarder reads gRPC schemas there). */
  upstream: { host: string; port: number; tls: boolean };
  /** Record nothing from this connection (its source is ignored); exchanges are still counted. */
  ignoreAll?: boolean;
  /** Apply the path ignore list (inbound). */
  ignorePaths?: boolean;
  /** TLS negotiated `h2` by ALPN: the bytes are HTTP/2 from the first. */
  h2?: boolean;
}

interface Exchange extends ExchangeParts {
  method: string;
  reqDone: boolean;
  resDone: boolean;
  /** Protocol the request asked to upgrade to, or 'CONNECT'; '' for plain requests. */
  switching: string;
  /** Counted, not recorded (ignore lists). */
  ignored: boolean;
  /** The body cap for this exchange (0: nobody reads it). */
  max: number;
  /** NO_BODY until the first body byte (most requests have none). */
  reqBody: CappedBody;
  resBody: CappedBody;
}

/** Exchanges awaiting a response past which the connection is no longer recorded (bounds its memory). */
const MAX_OPEN_EXCHANGES = 32;
const EMPTY = Buffer.alloc(0);
/** Shared by every message without a body; never added to. */
const NO_BODY = new CappedBody(0);
/** The client preface is 24 bytes; fewer than this in a first chunk is read as not HTTP/2. */
const PREFACE_BYTES = 24;

/** Read once: the getter is a call into the runtime each time, and it never changes. */
const TIME_ORIGIN = performance.timeOrigin;
const now = () => TIME_ORIGIN + performance.now();

export class ConnectionTap implements ChunkReader {
  readonly conn: number;
  private stopped = false;
  private finished = false;
  private sniffed = false;
  private readonly req: Http1Parser;
  private readonly res: Http1Parser;
  private h2: H2Tap | undefined;
  /** Exchanges not yet handed over, oldest first. */
  private readonly open = new Fifo<Exchange>();
  /** Exchanges whose final response has not started, oldest first. */
  private readonly awaiting = new Fifo<Exchange>();
  private reqCur: Exchange | undefined;
  /** The response being read: its exchange (none when nobody asked for it), an interim 1xx, a switch. */
  private resEx: Exchange | undefined;
  private resInterim = false;
  private resSwitched = false;
  private upstreamError: { code: string; message: string } | undefined;
  private idleHook: (() => void) | undefined;

  constructor(
    private readonly ctx: TapContext,
    private readonly facts: TapFacts,
  ) {
    this.conn = ctx.nextConn();
    this.req = new Http1Parser('request', this.requestEvents);
    this.res = new Http1Parser('response', this.responseEvents);
    if (facts.h2) this.startH2('alpn');
  }

  /**
   * The hot path, after the chunk was forwarded: `dir` 0 = from the client. The chunk is read
   * by the end of this event-loop turn (tap-queue.ts), stamped with the time it arrived.
   */
  push(dir: 0 | 1, chunk: Buffer): void {
    if (this.stopped && !this.h2) return;
    queueChunk(this, dir, chunk, now());
  }

  /** A queued chunk, in the order the chunks arrived. Never throws: a failure stops recording. */
  read(dir: 0 | 1, chunk: Buffer, t: number): void {
    try {
      if (this.h2) return this.h2.push(dir, chunk, t);
      if (this.stopped) return;
      if (dir === 0) {
        if (!this.sniffed && this.sniff(chunk)) return (this.h2 as H2Tap | undefined)?.push(0, chunk, t);
        if (!this.stopped) this.req.push(chunk, t);
      } else this.res.push(chunk, t);
    } catch (err) {
      if (this.h2) this.h2Failed(err);
      else this.fail(err);
    }
    if (this.idleHook && this.between()) this.idleHook();
  }

  /** True when recording is off for this connection (parse error, other protocol, switched). */
  get off(): boolean {
    readQueuedChunks();
    return this.stopped && !this.h2;
  }

  /** Between exchanges (HTTP/2: no stream open), nothing partial: closing now loses nothing. */
  get idle(): boolean {
    readQueuedChunks();
    return this.between();
  }

  /** `idle` as of the chunks read so far. */
  private between(): boolean {
    if (this.h2) return this.h2.idle;
    return !this.stopped && this.open.length === 0 && this.req.idle && this.res.idle;
  }

  /** Called when the connection becomes idle (used while shutting down). */
  set onIdle(hook: (() => void) | undefined) {
    this.idleHook = hook;
    if (this.h2) this.h2.onIdle = hook;
  }

  /** Why the upstream failed, for the exchanges left without a response. */
  upstreamFailed(err: NodeJS.ErrnoException): void {
    readQueuedChunks();
    this.upstreamError ??= { code: err.code ?? 'UPSTREAM_ERROR', message: err.message };
  }

  /** Both sides are closed: what is open is handed over (with an error when cut). */
  finish(): void {
    readQueuedChunks();
    if (this.finished) return;
    this.finished = true;
    const t = now();
    if (this.h2) return this.h2.finish(t, this.upstreamError);
    if (this.stopped) return;
    try {
      this.req.end(t);
      this.res.end(t);
      this.flush();
      for (let ex = this.open.shift(); ex; ex = this.open.shift()) {
        if (!ex.resDone) {
          ex.endT = t;
          ex.error = this.upstreamError ?? {
            code: ex.resHead ? 'INCOMPLETE_RESPONSE' : 'NO_RESPONSE',
            message: ex.resHead ? 'the connection closed during the response' : 'the connection closed first',
          };
        }
        this.hand(ex);
      }
    } catch (err) {
      this.fail(err);
    }
    this.open.clear();
    this.awaiting.clear();
  }

  /** The first request bytes tell whether this is HTTP/1.x at all; true when it is HTTP/2. */
  private sniff(chunk: Buffer): boolean {
    this.sniffed = true;
    if (chunk[0] === 0x16)
      this.stop('unparsed'); // a TLS ClientHello on a plain-text port
    else if (chunk.length >= PREFACE_BYTES && looksLikeH2Preface(chunk)) {
      this.startH2('prior-knowledge');
      return true;
    }
    return false;
  }

  private startH2(via: H2Via, upgrade?: { head: Buffer; body: Buffer }): void {
    const { outbound, https, host, port, upstream } = this.facts;
    this.stopped = true;
    this.h2 = new H2Tap(
      this.ctx.shipper,
      this.ctx.counters,
      { conn: this.conn, t: now(), facts: { outbound, https, host, port }, via, upstream, upgrade },
      {
        maxBody: this.ctx.maxBody,
        ignored: this.facts.ignoreAll === true,
        onInvalid: () => {
          this.h2?.abandon();
          this.h2 = undefined;
          this.ctx.counters.unparsed++;
        },
      },
    );
    this.h2.onIdle = this.idleHook;
  }

  private stop(why: 'unparsed' | 'parse-error' | 'overflow' | 'switched'): void {
    if (this.stopped) return;
    this.stopped = true;
    this.open.clear();
    this.awaiting.clear();
    this.req.stop();
    this.res.stop();
    const c = this.ctx.counters;
    if (why === 'unparsed') c.unparsed++;
    else if (why === 'parse-error') c.parseErrors++;
    else if (why === 'overflow') c.overflows++;
  }

  /** The HTTP/2 tap threw (a bug, not the bytes): the connection is no longer recorded. */
  private h2Failed(err: unknown): void {
    this.h2?.abandon();
    this.h2 = undefined;
    this.ctx.counters.parseErrors++;
    this.ctx.onError?.(err, this.facts);
  }

  private fail(err: unknown): void {
    if (err instanceof ParseError) this.stop(err.code === 'h2c' ? 'unparsed' : 'parse-error');
    else {
      this.stop('parse-error');
      this.ctx.onError?.(err, this.facts);
    }
  }

  private readonly requestEvents: ParserHandler = {
    onHead: (head: HeadFacts, bytes: Buffer, t: number) => {
      const f = this.facts;
      const ignored =
        f.ignoreAll === true ||
        (f.ignorePaths === true && this.ctx.ignore.targetIn(bytes, head.targetStart, head.targetEnd));
      // Bodies of exchanges nobody will read are counted, not kept.
      const keep = !ignored && this.ctx.shipper.shipping;
      const ex: Exchange = {
        conn: this.conn,
        facts: f,
        startT: t,
        endT: t,
        method: head.method,
        reqHead: keep ? bytes : EMPTY,
        reqBody: NO_BODY,
        resBody: NO_BODY,
        max: keep ? this.ctx.maxBody : 0,
        reqDone: false,
        resDone: false,
        switched: false,
        switching: head.method === 'CONNECT' ? 'CONNECT' : head.upgrade,
        ignored,
      };
      this.open.push(ex);
      this.awaiting.push(ex);
      this.reqCur = ex;
      if (this.open.length > MAX_OPEN_EXCHANGES) this.stop('overflow');
    },
    onBody: (bytes: Buffer) => {
      const ex = this.reqCur!;
      if (ex.reqBody === NO_BODY) ex.reqBody = new CappedBody(ex.max);
      ex.reqBody.add(bytes);
    },
    onEnd: () => {
      const ex = this.reqCur!;
      ex.reqDone = true;
      this.reqCur = undefined;
      // What follows an upgrade request is another protocol if the answer is 101: wait for it.
      if (ex.switching) this.req.pause();
      this.flush();
    },
  };

  private readonly responseEvents: ParserHandler = {
    onHead: (head: HeadFacts, bytes: Buffer) => {
      const status = head.status;
      if (status < 200 && status !== 101) {
        this.resEx = undefined;
        this.resInterim = true;
        return true;
      }
      // A response nobody asked for (e.g. a 408 on an idle connection) is read, not recorded.
      const ex = this.awaiting.shift();
      const switched = ex !== undefined && (status === 101 || (ex.switching === 'CONNECT' && status < 300));
      this.resEx = ex;
      this.resInterim = false;
      this.resSwitched = switched;
      if (ex) ex.resHead = ex.reqHead === EMPTY ? EMPTY : bytes;
      return switched || status === 101 || status === 204 || status === 304 || ex?.method === 'HEAD';
    },
    onBody: (bytes: Buffer) => {
      const ex = this.resEx;
      if (!ex) return;
      if (ex.resBody === NO_BODY) ex.resBody = new CappedBody(ex.max);
      ex.resBody.add(bytes);
    },
    onEnd: (t: number) => {
      const ex = this.resEx;
      this.resEx = undefined;
      if (this.resInterim || !ex) return;
      ex.resDone = true;
      ex.endT = t;
      if (this.resSwitched) return this.switched(ex);
      this.flush();
      if (ex.switching) this.req.resume();
    },
  };

  /** The exchange switched protocols: HTTP/2 goes on being recorded, anything else is not. */
  private switched(ex: Exchange): void {
    // The request side may still be paused on this exchange: it ends here either way.
    ex.reqDone = true;
    if (ex.switching.toLowerCase() !== 'h2c') {
      ex.switched = true;
      this.flush();
      this.stop('switched');
      return;
    }
    // `Upgrade: h2c` answered 101: the request is HTTP/2 stream 1; its response comes as HTTP/2.
    this.open.pop();
    this.flush();
    this.startH2('upgrade', { head: ex.reqHead, body: ex.reqBody.bytes() });
    const h2 = this.h2!;
    this.req.switchTo((chunk, t) => h2.push(0, chunk, t));
    this.res.switchTo((chunk, t) => h2.push(1, chunk, t));
  }

  /** Hands over the finished exchanges at the head of the queue, in order. */
  private flush(): void {
    for (let ex = this.open.at(0); ex?.reqDone && ex.resDone; ex = this.open.at(0))
      this.hand(this.open.shift()!);
  }

  private hand(ex: Exchange): void {
    if (ex.ignored) this.ctx.counters.ignored++;
    else this.ctx.shipper.exchange(ex);
  }
}
