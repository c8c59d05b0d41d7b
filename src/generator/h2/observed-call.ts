/**
 * What a replayed HTTP/2 request got back, as the observed line's `response`, in the form the
 * recording keeps, so the analyzer compares like with like. A gRPC call: `:status`, headers,
 * trailers, and `grpc` (status, message, every response message decoded into protobuf fields
 * with its time from the send); message bytes are kept up to `maxBytes` per call, past it the
 * call is `responseTruncated`. A plain request: status, headers, trailers and the body as the
 * HTTP/1.1 runner keeps it (response-body.ts: decoded from gzip/deflate/br, cut at the limit).
 */
import type { Body, HeaderList } from '../../model/traffic.js';
import { responseBody } from '../response-body.js';
import { header, StreamBody } from '../../protocols/http2/exchange.js';
import { readGrpcFrames } from '../../protocols/grpc/messages.js';
import { decodeMessage } from '../../protocols/grpc/protobuf.js';
import type { GrpcRecord } from '../../protocols/grpc/recorded-pair.js';

export type ObservedGrpc = Omit<GrpcRecord, 'service' | 'method' | 'request' | 'schema'>;

export interface ObservedHttpResponse {
  status: number;
  headers: HeaderList;
  body?: Body;
  trailers?: HeaderList;
}

export interface ObservedCallResponse {
  status: number;
  headers: HeaderList;
  trailers?: HeaderList;
  grpc: ObservedGrpc;
}

/** Collects one call's response as it arrives. */
export class CallReceiver {
  status = 0;
  headers: HeaderList = [];
  trailers: HeaderList | undefined;
  readonly body: StreamBody;

  constructor(
    private readonly sentAt: number,
    maxBytes: number,
  ) {
    this.body = new StreamBody(maxBytes);
  }

  data(chunk: Buffer, now: number): void {
    this.body.add(chunk, now, Infinity);
  }

  /** A plain HTTP/2 response, its body kept up to `maxBodyBytes`. */
  httpResponse(maxBodyBytes: number): ObservedHttpResponse {
    const { chunks, kept, size } = this.body;
    const received = {
      status: this.status,
      headers: this.headers,
      contentEncoding: header(this.headers, 'content-encoding'),
      chunks,
      owned: chunks.length,
      kept,
      size,
    };
    const out: ObservedHttpResponse = { status: this.status, headers: this.headers };
    const body = responseBody(received, maxBodyBytes);
    if (body) out.body = body;
    if (this.trailers) out.trailers = this.trailers;
    return out;
  }

  /** A gRPC call's response, messages decoded up to `maxMessage` bytes each. */
  observed(maxMessage: number): ObservedCallResponse {
    const encoding = header(this.headers, 'grpc-encoding');
    const framing = readGrpcFrames(this.body, encoding, maxMessage);
    const grpc: ObservedGrpc = {
      response: framing.frames.map((f) => {
        const fields = f.truncated || f.rawEncoding ? undefined : decodeMessage(f.data);
        const offsetMs = Math.max(0, Math.round((f.t - this.sentAt) * 1000) / 1000);
        return fields
          ? { offsetMs, size: f.size, fields }
          : { offsetMs, size: f.size, raw: f.data.toString('base64'), ...(f.error && { error: f.error }) };
      }),
    };
    if (framing.truncated) grpc.responseTruncated = true;
    const from = this.trailers ?? this.headers;
    const status = header(from, 'grpc-status');
    if (status !== undefined && /^\d+$/.test(status.trim())) {
      grpc.status = Number(status);
      const message = header(from, 'grpc-message');
      if (message !== undefined) grpc.message = percentDecoded(message);
      if (!this.trailers) grpc.trailersOnly = true;
    }
    if (encoding) grpc.responseEncoding = encoding;
    const out: ObservedCallResponse = { status: this.status, headers: this.headers, grpc };
    if (this.trailers) out.trailers = this.trailers;
    return out;
  }
}

function percentDecoded(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
