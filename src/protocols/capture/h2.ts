/**
 * One HTTP/2 connection as the tap shipped it (H2_OPEN, its bytes by direction with gaps,
 * H2_CLOSE) decoded into format-2 pairs, one per stream, gRPC calls read from their messages.
 */
import { isoTime } from '../../base/iso-time.js';
import type { RRPair } from '../../model/traffic.js';
import { type GrpcCall, grpcCall } from '../grpc/call.js';
import { h2PairParts } from '../grpc/recorded-format.js';
import { parseHead } from '../http1/head.js';
import { type ConnectionFacts, type PairIds, requestLocation } from '../http1/pair.js';
import { type H2Limits, H2ConnectionDecoder } from '../http2/connection.js';
import type { H2Exchange } from '../http2/exchange.js';
import type { H2Open } from './frames.js';
import { connectionFacts } from './h1.js';

export interface CapturedPair {
  pair: RRPair;
  /** A gRPC call, and the origin its server answers reflection on (for field names). */
  grpc?: { call: GrpcCall; origin: string };
}

export interface H2CaptureContext {
  service: string;
  ids: PairIds;
  /** The sidecar's body cap: the most of a message body it ships. */
  maxBody: number;
  /** Messages kept per side of a gRPC call. */
  maxMessages?: number;
  limits?: H2Limits;
  /** Groups the pairs of one connection. */
  connectionId: string;
}

/** Errors of streams the connection left open, replaced by the sidecar's reason when it knows one. */
const CLOSED_CODES = new Set(['NO_RESPONSE', 'INCOMPLETE_RESPONSE']);

export class H2Capture {
  private readonly dec: H2ConnectionDecoder;
  private out: CapturedPair[] = [];
  private closeError: { code: string; message: string } | undefined;
  private readonly origin: string;
  /** The connection's facts, and with the scheme a stream's `:scheme` names (made once). */
  private readonly conns: Record<'own' | 'http' | 'https', ConnectionFacts>;
  /** Decode failures, for the forwarder's counters. */
  errors = 0;

  constructor(
    private readonly open: H2Open,
    private readonly ctx: H2CaptureContext,
  ) {
    this.dec = new H2ConnectionDecoder(
      { onExchange: (ex) => this.exchange(ex), onError: (e) => e.scope === 'connection' && this.errors++ },
      { maxBody: ctx.maxBody, ...ctx.limits },
    );
    const own = connectionFacts(open.facts);
    this.conns = { own, http: { ...own, scheme: 'http' }, https: { ...own, scheme: 'https' } };
    const up = open.upstream;
    this.origin = `${up.tls ? 'https' : 'http'}://${up.host.includes(':') ? `[${up.host}]` : up.host}:${up.port}`;
    if (open.upgrade) {
      const head = parseHead(open.upgrade.head.toString('latin1'), 'request');
      this.dec.startAfterUpgrade(
        {
          method: head.method,
          target: head.target,
          scheme: open.facts.https ? 'https' : 'http',
          headers: head.headers,
          body: open.upgrade.body,
        },
        open.t,
      );
    }
  }

  get openStreams(): number {
    return this.dec.openStreams;
  }

  /** Pairs completed since the last call. */
  take(): CapturedPair[] {
    const out = this.out;
    this.out = [];
    return out;
  }

  data(dir: 0 | 1, bytes: Buffer, t: number): void {
    this.dec.push(dir, bytes, t);
  }

  gap(dir: 0 | 1, n: number, t: number): void {
    this.dec.gap(dir, n, t);
  }

  /** The connection closed: open streams become pairs with an error. */
  close(t: number, error?: { code: string; message: string }): void {
    this.closeError = error;
    this.dec.end(t);
  }

  private exchange(ex: H2Exchange): void {
    if (this.closeError && ex.error && CLOSED_CODES.has(ex.error.code)) ex.error = this.closeError;
    const call = grpcCall(ex, undefined, this.ctx.maxMessages);
    const p = h2PairParts(ex, call, this.ctx.maxBody, this.open.via);
    const conn =
      p.scheme === 'https' ? this.conns.https : p.scheme === 'http' ? this.conns.http : this.conns.own;
    const where = requestLocation(p.target, [['host', p.authority]], conn);
    // Built field by field (no spreads): this runs once per stream, thousands a second.
    const request: RRPair['request'] = {
      method: p.method,
      scheme: where.scheme,
      host: where.host,
      port: where.port,
      path: where.path,
      query: where.query,
      headers: p.request.headers,
    };
    if (p.request.body) request.body = p.request.body;
    if (p.request.trailers) request.trailers = p.request.trailers;
    p.h2.connectionId = this.ctx.connectionId;
    const pair: RRPair = {
      id: this.ctx.ids.next(),
      direction: conn.direction,
      service: this.ctx.service,
      protocol: 'h2',
      startedAt: isoTime(ex.startT),
      durationMs: p.durationMs,
      request,
      tags: {},
      h2: p.h2,
    };
    if (p.response) pair.response = p.response;
    if (p.error) pair.error = p.error;
    if (p.grpc) pair.grpc = p.grpc;
    this.out.push(call ? { pair, grpc: { call, origin: this.origin } } : { pair });
  }
}
