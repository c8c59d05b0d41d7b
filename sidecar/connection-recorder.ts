/**
 * Records the exchanges of one proxied connection from a copy of its bytes. The proxy hands
 * over each chunk it forwards (a reference and an arrival time, nothing else); parsing happens
 * later, in a batch, in arrival order, so a request is always parsed before its response.
 * Responses pair with requests first-in first-out (keep-alive and pipelining); interim 1xx
 * responses are skipped; a 101 or a CONNECT's 2xx ends the recording of the connection after
 * that pair. Nothing here may throw into the proxy: on bytes it cannot parse it stops recording
 * the connection and counts it.
 */
import { performance } from 'node:perf_hooks';
import type { RRPair } from '../src/model/traffic.js';
import type { DrainScheduler } from './drain-scheduler.js';
import { Http1Parser, type MessageHead, ParseError, type ParserHandler } from './http1-parser.js';
import type { Ignore } from './ignore.js';
import {
  buildPair,
  type ConnectionFacts,
  type ExchangeRecord,
  type PairContext,
  requestLocation,
} from './pair-builder.js';
import { CappedBody } from './recorded-body.js';
import type { Counters } from './stats.js';

export interface RecorderContext extends PairContext {
  record(pair: RRPair): void;
  /** Nobody will read the pairs (no forwarder): count them without building them. */
  discard?: boolean;
  ignore: Ignore;
  counters: Counters;
  scheduler: DrainScheduler;
  onError?(err: unknown, facts: ConnectionFacts): void;
}

export interface RecorderFacts extends ConnectionFacts {
  /** Record nothing from this connection (its source is ignored); exchanges are still counted. */
  ignoreAll?: boolean;
  /** Apply the path ignore list (inbound). */
  ignorePaths?: boolean;
}

interface Exchange extends ExchangeRecord {
  reqDone: boolean;
  resDone: boolean;
  /** Protocol the request asked to upgrade to, or 'CONNECT'; '' for plain requests. */
  switching: string;
}

/** Exchanges awaiting a response past which the connection is no longer recorded (bounds its memory). */
const MAX_OPEN_EXCHANGES = 32;
/** Unparsed bytes past which the connection is no longer recorded (the recorder fell behind). */
const MAX_QUEUED_BYTES = 32 * 1024 * 1024;

/** Direction of a queued chunk: 0 = from the client (requests), 1 = from the upstream. */
const REQUEST = 0;

export class ConnectionRecorder {
  /** Queued chunks: direction, chunk, arrival time; flat, three slots per chunk. */
  private q: (number | Buffer)[] = [];
  private queuedBytes = 0;
  private scheduled = false;
  private stopped = false;
  private finished = false;
  private sniffed = false;
  private readonly req: Http1Parser;
  private readonly res: Http1Parser;
  /** Exchanges not yet recorded, oldest first. */
  private open: Exchange[] = [];
  /** Exchanges whose final response has not started, oldest first. */
  private awaiting: Exchange[] = [];
  private reqCur: Exchange | undefined;
  private resCur: { ex: Exchange | undefined; interim: boolean; switched: boolean } | undefined;
  private upstreamError: { code: string; message: string } | undefined;
  /** Called after a drain that leaves the connection between exchanges (used while shutting down). */
  onIdle: (() => void) | undefined;

  constructor(
    private readonly ctx: RecorderContext,
    private readonly facts: RecorderFacts,
  ) {
    this.req = new Http1Parser('request', this.requestEvents);
    this.res = new Http1Parser('response', this.responseEvents);
  }

  /** The hot path: remember the chunk, parse later. */
  push(direction: 0 | 1, chunk: Buffer): void {
    if (this.stopped) return;
    this.q.push(direction, chunk, performance.now());
    this.queuedBytes += chunk.length;
    const s = this.ctx.scheduler;
    s.queuedBytes += chunk.length;
    if (!this.scheduled) {
      this.scheduled = true;
      s.add(this);
    } else if (this.queuedBytes > MAX_QUEUED_BYTES) this.stop('overflow');
    else s.hurry();
  }

  /** True when recording is off for this connection (parse error, other protocol, switched). */
  get off(): boolean {
    return this.stopped;
  }

  /** Between exchanges with nothing queued or partial: closing now loses nothing. */
  get idle(): boolean {
    return !this.stopped && this.q.length === 0 && this.open.length === 0 && this.req.idle && this.res.idle;
  }

  /** Why the upstream failed, for the exchanges left without a response. */
  upstreamFailed(err: NodeJS.ErrnoException): void {
    this.upstreamError ??= { code: err.code ?? 'UPSTREAM_ERROR', message: err.message };
  }

  drain(): void {
    this.scheduled = false;
    const q = this.q;
    this.q = [];
    this.queuedBytes = 0;
    if (this.stopped) return;
    try {
      for (let i = 0; i < q.length && !this.stopped; i += 3) {
        const chunk = q[i + 1] as Buffer;
        if (q[i] === REQUEST) {
          if (!this.sniffed) this.sniff(chunk);
          if (!this.stopped) this.req.push(chunk, q[i + 2] as number);
        } else this.res.push(chunk, q[i + 2] as number);
      }
    } catch (err) {
      this.fail(err);
    }
    if (this.onIdle && this.idle) this.onIdle();
  }

  /** Both sides are closed: parse what is left, record what is open (with an error if cut). */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.drain();
    if (this.stopped) return;
    const now = performance.now();
    try {
      this.req.end(now);
      this.res.end(now);
      this.flush();
      for (const ex of this.open) {
        if (!ex.resDone) {
          ex.endT = now;
          ex.error = this.upstreamError ?? {
            code: ex.response ? 'INCOMPLETE_RESPONSE' : 'NO_RESPONSE',
            message: ex.response
              ? 'the connection closed during the response'
              : 'the connection closed first',
          };
        }
        this.emit(ex);
      }
    } catch (err) {
      this.fail(err);
    }
    this.open = [];
    this.awaiting = [];
  }

  /** The first request bytes tell whether this is HTTP/1.x at all. */
  private sniff(chunk: Buffer): void {
    this.sniffed = true;
    if (chunk[0] === 0x16) this.stop('unparsed'); // a TLS ClientHello on a plain-text port
  }

  private stop(why: 'unparsed' | 'parse-error' | 'overflow' | 'switched'): void {
    if (this.stopped) return;
    this.stopped = true;
    this.q = [];
    this.open = [];
    this.awaiting = [];
    this.req.stop();
    this.res.stop();
    const c = this.ctx.counters;
    if (why === 'unparsed') c.unparsed++;
    else if (why === 'parse-error') c.parseErrors++;
    else if (why === 'overflow') c.overflows++;
  }

  private fail(err: unknown): void {
    if (err instanceof ParseError) this.stop(err.code === 'h2c' ? 'unparsed' : 'parse-error');
    else {
      this.stop('parse-error');
      this.ctx.onError?.(err, this.facts);
    }
  }

  private readonly requestEvents: ParserHandler = {
    onHead: (head: MessageHead, t: number) => {
      const ex: Exchange = {
        startT: t,
        endT: t,
        method: head.method,
        target: head.target,
        reqHeaders: head.headers,
        reqDone: false,
        resDone: false,
        switching: head.method === 'CONNECT' ? 'CONNECT' : head.upgrade,
      };
      if (head.version === '1.0') ex.tags = { httpVersion: '1.0' };
      this.open.push(ex);
      this.awaiting.push(ex);
      this.reqCur = ex;
      if (this.open.length > MAX_OPEN_EXCHANGES) this.stop('overflow');
    },
    onBody: (bytes: Buffer) => {
      const ex = this.reqCur!;
      (ex.reqBody ??= new CappedBody(this.ctx.maxBody)).add(bytes);
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
    onHead: (head: MessageHead) => {
      const status = head.status;
      if (status < 200 && status !== 101) {
        this.resCur = { ex: undefined, interim: true, switched: false };
        return true;
      }
      // A response nobody asked for (e.g. a 408 on an idle connection) is parsed, not recorded.
      const ex = this.awaiting.shift();
      const switched = ex !== undefined && (status === 101 || (ex.switching === 'CONNECT' && status < 300));
      this.resCur = { ex, interim: false, switched };
      if (ex) ex.response = { status, statusText: head.statusText, headers: head.headers };
      return switched || status === 101 || status === 204 || status === 304 || ex?.method === 'HEAD';
    },
    onBody: (bytes: Buffer) => {
      const r = this.resCur!.ex?.response;
      if (r) (r.body ??= new CappedBody(this.ctx.maxBody)).add(bytes);
    },
    onEnd: (t: number) => {
      const cur = this.resCur!;
      this.resCur = undefined;
      const ex = cur.ex;
      if (cur.interim || !ex) return;
      ex.resDone = true;
      ex.endT = t;
      if (cur.switched) {
        ex.tags = { ...ex.tags, upgrade: ex.switching };
        // The request side may still be paused on this exchange: it ends here either way.
        ex.reqDone = true;
        this.flush();
        this.stop('switched');
        return;
      }
      this.flush();
      if (ex.switching) this.req.resume();
    },
  };

  /** Records the finished exchanges at the head of the queue, in order. */
  private flush(): void {
    const open = this.open;
    let n = 0;
    while (n < open.length && open[n].reqDone && open[n].resDone) this.emit(open[n++]);
    if (n > 0) open.splice(0, n);
  }

  private emit(ex: Exchange): void {
    const { ctx, facts } = this;
    if (facts.ignoreAll) {
      ctx.counters.ignored++;
      return;
    }
    const where = requestLocation(ex.target, ex.reqHeaders, facts);
    if (facts.ignorePaths && ctx.ignore.path(where.path)) {
      ctx.counters.ignored++;
      return;
    }
    if (ctx.discard) ctx.counters.pairs++;
    else ctx.record(buildPair(ex, facts, ctx, where));
  }
}
