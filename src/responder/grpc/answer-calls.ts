/**
 * Answers live gRPC calls (HTTP/2 requests with a gRPC content type, h2c or TLS with ALPN h2,
 * direct or inside a CONNECT tunnel) ahead of mockttp: the request messages are read whole
 * (bounded), keyed like the recording, and answered with the recorded headers, messages (in
 * recorded order, at their recorded times under `latency: recorded`) and trailers. A miss is
 * a trailers-only status, UNIMPLEMENTED when nothing was recorded on the path and NOT_FOUND
 * when the request messages differ, counted and listed like an HTTP miss. On a path where an
 * interactive call was recorded, a call that opens it is answered as it goes (conversation.ts).
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse, OutgoingHttpHeaders } from 'node:http2';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { ResponderConfig } from '../../config/replay.js';
import { encodeGrpcMessage, GrpcStatus, splitMessages } from '../../protocols/grpc/wire.js';
import type { MatchLog } from '../match-log.js';
import { MATCH_HEADER } from '../recorded-reply.js';
import { callKey, type FieldPaths } from './call-key.js';
import { LiveConversation } from './conversation.js';
import type { GrpcReply, RecordedCalls } from './recorded-calls.js';

export interface GrpcLimits {
  /** Bytes of one call's request body read before it is refused (RESOURCE_EXHAUSTED). */
  maxCallBytes: number;
  /** A decompressed request message larger than this is not decoded. */
  maxMessageBytes: number;
}

export const DEFAULT_GRPC_LIMITS: GrpcLimits = { maxCallBytes: 16 << 20, maxMessageBytes: 4 << 20 };

const GRPC_CONTENT_TYPE = /^application\/grpc(?:$|[+;])/i;

export class GrpcAnswers {
  constructor(
    private readonly calls: RecordedCalls,
    private readonly ignore: FieldPaths,
    private readonly log: MatchLog,
    private readonly logger: Logger,
    private readonly latency: ResponderConfig['latency'],
    private readonly limits: GrpcLimits = DEFAULT_GRPC_LIMITS,
  ) {}

  /** Wraps a request listener: gRPC calls are answered here, everything else goes on to `next`. */
  listener(next: RequestListener): RequestListener {
    return (req: IncomingMessage, res: ServerResponse) => {
      const ct = req.headers['content-type'];
      if (req.httpVersionMajor === 2 && typeof ct === 'string' && GRPC_CONTENT_TYPE.test(ct)) {
        this.take(req as unknown as Http2ServerRequest, res as unknown as Http2ServerResponse);
      } else next(req, res);
    };
  }

  private take(req: Http2ServerRequest, res: Http2ServerResponse): void {
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    const live = this.conversation(req, res);
    req.on('data', (chunk: Buffer) => {
      if (refused) return;
      if (live) {
        live.push(chunk);
        if (live.committed) return void (chunks.length = 0);
      }
      size += chunk.length;
      if (size > this.limits.maxCallBytes) {
        refused = true;
        chunks.length = 0;
        this.miss(req, `request body over ${this.limits.maxCallBytes} bytes`, GrpcStatus.RESOURCE_EXHAUSTED);
      } else chunks.push(chunk);
    });
    req.on('end', () => {
      if (live?.committed) live.end();
      else if (!refused) this.answer(req, res, Buffer.concat(chunks, size));
    });
    req.on('error', () => undefined); // a reset stream: nothing to answer
  }

  /** On a path where an interactive call was recorded, the call is also read message by message. */
  private conversation(req: Http2ServerRequest, res: Http2ServerResponse): LiveConversation | undefined {
    const path = String(req.headers[':path'] ?? '');
    const longest = this.calls.longestOpeningOn(path);
    if (longest === undefined) return undefined;
    const encoding = req.headers['grpc-encoding'];
    const context = {
      calls: this.calls,
      ignore: this.ignore,
      latency: this.latency,
      maxMessageBytes: this.limits.maxMessageBytes,
      matched: () => this.log.matched(),
      missed: (why: string, status: number, key: string) => this.logMiss(req, why, status, key),
    };
    return new LiveConversation(
      context,
      res,
      path,
      typeof encoding === 'string' ? encoding : undefined,
      longest,
    );
  }

  private answer(req: Http2ServerRequest, res: Http2ServerResponse, body: Buffer): void {
    const path = String(req.headers[':path'] ?? '');
    const encoding = req.headers['grpc-encoding'];
    const framing = splitMessages(
      body,
      typeof encoding === 'string' ? encoding : undefined,
      this.limits.maxMessageBytes,
    );
    if (framing.trailingBytes > 0 || framing.frames.some((f) => f.truncated || f.error)) {
      return this.miss(req, 'the request body is not a sequence of gRPC messages', GrpcStatus.INTERNAL);
    }
    const key = callKey(
      path,
      framing.frames.map((f) => f.data),
      this.ignore,
    );
    const entry = this.calls.find(key);
    if (!entry) {
      const nearest = this.calls.keysOn(path);
      return nearest
        ? this.miss(
            req,
            `no recorded call on ${path} with these request messages`,
            GrpcStatus.NOT_FOUND,
            key,
            nearest,
          )
        : this.miss(req, `no recorded call on ${path}`, GrpcStatus.UNIMPLEMENTED, key);
    }
    this.log.matched();
    this.send(res, this.calls.next(entry));
  }

  /** Through the stream of the compatibility response: its `wantTrailers` handler sends what addTrailers set. */
  private send(res: Http2ServerResponse, reply: GrpcReply): void {
    const stream = res.stream;
    if (stream.destroyed) return;
    const headers = { ...reply.headers, [MATCH_HEADER]: 'MATCH' };
    const { trailers, messages } = reply;
    if (!trailers && messages.length === 0) {
      stream.respond(headers, { endStream: true });
      return;
    }
    stream.respond(headers, { waitForTrailers: trailers !== undefined });
    if (trailers) res.addTrailers(trailers);
    const recorded = this.latency === 'recorded';
    const delay = typeof this.latency === 'object' ? this.latency.fixedMs : 0;
    const start = performance.now() + delay;
    const at = (ms: number, fn: () => void) => {
      const wait = start + (recorded ? ms : 0) - performance.now();
      if (wait <= 0) fn();
      else setTimeout(fn, wait);
    };
    const step = (i: number): void => {
      if (stream.destroyed) return;
      if (i === messages.length) return at(reply.endMs, () => stream.destroyed || stream.end());
      stream.write(messages[i].frame);
      if (i + 1 < messages.length) at(messages[i + 1].atMs, () => step(i + 1));
      else step(i + 1);
    };
    if (messages.length) at(messages[0].atMs, () => step(0));
    else step(0);
  }

  private miss(
    req: Http2ServerRequest,
    why: string,
    status: number,
    key = '',
    nearest?: readonly string[],
  ): void {
    const trailers = this.logMiss(req, why, status, key, nearest);
    if (req.stream.destroyed) return;
    const headers: OutgoingHttpHeaders = {
      ':status': 200,
      'content-type': 'application/grpc',
      ...trailers,
      [MATCH_HEADER]: 'NO_MATCH',
    };
    req.stream.respond(headers, { endStream: true });
  }

  /** Lists and counts a miss; the trailers (`grpc-status`, `grpc-message`) that say it. */
  private logMiss(
    req: Http2ServerRequest,
    why: string,
    status: number,
    key: string,
    nearest?: readonly string[],
  ): Record<string, string> {
    const path = String(req.headers[':path'] ?? '');
    const url = `${String(req.headers[':scheme'] ?? 'http')}://${String(req.headers[':authority'] ?? '')}${path}`;
    const record = {
      status: 'NO_MATCH' as const,
      method: 'POST',
      url,
      signature: key,
      nearest: nearest && [...nearest],
    };
    if (this.log.missed(record))
      this.logger.warn({ ...record, grpcStatus: status }, `gRPC call not answered: ${why}`);
    return { 'grpc-status': String(status), 'grpc-message': encodeGrpcMessage(`reprise responder: ${why}`) };
  }
}
