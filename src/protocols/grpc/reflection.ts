/**
 * A gRPC server reflection client (grpc.reflection.v1, falling back to v1alpha) over
 * node:http2: lists the server's services and fetches the FileDescriptorProtos that define
 * them into a DescriptorRegistry. Requests and responses are built and read with the
 * schema-less protobuf codec by field numbers (reflection.proto); bounded in time and size.
 */
import http2 from 'node:http2';
import { DescriptorRegistry } from './descriptors.js';
import { type ProtoField, decodeMessage, encodeMessage, payloadBytes } from './protobuf.js';

export const REFLECTION_PATHS = {
  v1: '/grpc.reflection.v1.ServerReflection/ServerReflectionInfo',
  v1alpha: '/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo',
} as const;

export interface ReflectionOptions {
  /** For the whole exchange. Default 10 s. */
  timeoutMs?: number;
  /** Largest response message accepted. Default 16 MiB. */
  maxMessageBytes?: number;
  /** Protocol versions to try, in order (the next one when the server does not implement one). */
  versions?: (keyof typeof REFLECTION_PATHS)[];
}

export interface ReflectionResult {
  registry: DescriptorRegistry;
  version: keyof typeof REFLECTION_PATHS;
  services: string[];
}

export class GrpcStatusError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(`gRPC status ${status}: ${message}`);
  }
}

const UNIMPLEMENTED = 12;

/** Reads the schemas of every service `origin` (`http://host:port`) offers through reflection. */
export async function fetchDescriptors(
  origin: string,
  opts: ReflectionOptions = {},
): Promise<ReflectionResult> {
  const session = http2.connect(origin);
  session.on('error', () => {}); // surfaced through the stream
  const timer = setTimeout(
    () => session.destroy(new Error(`reflection timed out`)),
    opts.timeoutMs ?? 10_000,
  );
  try {
    for (const version of opts.versions ?? (['v1', 'v1alpha'] as const)) {
      const stream = new MessageStream(session, REFLECTION_PATHS[version], opts.maxMessageBytes ?? 16 << 20);
      try {
        return { version, ...(await readAll(stream)) };
      } catch (err) {
        if (!(err instanceof GrpcStatusError && err.status === UNIMPLEMENTED)) throw err;
      } finally {
        stream.end();
      }
    }
    throw new GrpcStatusError(UNIMPLEMENTED, 'the server offers no reflection service');
  } finally {
    clearTimeout(timer);
    session.close();
  }
}

async function readAll(stream: MessageStream): Promise<Omit<ReflectionResult, 'version'>> {
  const registry = new DescriptorRegistry();
  // ServerReflectionRequest.list_services (7) -> list_services_response (6).service (1).name (1)
  const listed = await stream.call([{ n: 7, t: 'string', v: '' }]);
  const services = sub(listed, 6)
    .flatMap((l) => sub(l, 1))
    .map((s) => text(s, 1))
    .filter((s): s is string => !!s && !s.startsWith('grpc.reflection.'));
  for (const service of services) {
    // file_containing_symbol (4) -> file_descriptor_response (4).file_descriptor_proto (1)
    const res = await stream.call([{ n: 4, t: 'string', v: service }]);
    for (const files of sub(res, 4)) {
      for (const f of files) if (f.n === 1) registry.addFile(payloadBytes(f));
    }
  }
  return { registry, services };
}

/** Sub-messages under field `n`. */
function sub(fields: ProtoField[], n: number): ProtoField[][] {
  const out: ProtoField[][] = [];
  for (const f of fields) {
    if (f.n !== n) continue;
    const m = f.t === 'message' ? f.v : decodeMessage(payloadBytes(f));
    if (m) out.push(m);
  }
  return out;
}

function text(fields: ProtoField[], n: number): string | undefined {
  const f = fields.find((x) => x.n === n);
  return f ? payloadBytes(f).toString('utf8') : undefined;
}

/** One bidirectional gRPC stream: send a message, await the next one back. */
class MessageStream {
  private readonly req: http2.ClientHttp2Stream;
  private buf: Buffer = Buffer.alloc(0);
  private readonly ready: Buffer[] = [];
  private readonly waiting: { resolve(b: Buffer): void; reject(e: Error): void }[] = [];
  private failure: Error | undefined;

  constructor(
    session: http2.ClientHttp2Session,
    path: string,
    private readonly maxMessage: number,
  ) {
    this.req = session.request({
      ':method': 'POST',
      ':path': path,
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    this.req.on('response', (h) => this.status(h, false));
    this.req.on('trailers', (h) => this.status(h, true));
    this.req.on('data', (chunk: Buffer) => this.data(chunk));
    this.req.on('error', (err) => this.fail(err));
    this.req.on('close', () => this.fail(new Error('the reflection stream closed')));
  }

  async call(fields: ProtoField[]): Promise<ProtoField[]> {
    const body = encodeMessage(fields);
    const prefix = Buffer.alloc(5);
    prefix.writeUInt32BE(body.length, 1);
    this.req.write(Buffer.concat([prefix, body]));
    const bytes = await this.next();
    const decoded = decodeMessage(bytes);
    if (!decoded) throw new Error('the reflection response is not a protobuf message');
    return decoded;
  }

  end(): void {
    if (!this.req.closed) this.req.close();
  }

  private next(): Promise<Buffer> {
    const b = this.ready.shift();
    if (b) return Promise.resolve(b);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  private data(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    while (this.buf.length >= 5) {
      const len = this.buf.readUInt32BE(1);
      if (len > this.maxMessage)
        return this.fail(new Error(`reflection message of ${len} bytes is too large`));
      if (this.buf.length < 5 + len) break;
      const msg = this.buf.subarray(5, 5 + len);
      this.buf = this.buf.subarray(5 + len);
      const w = this.waiting.shift();
      if (w) w.resolve(msg);
      else this.ready.push(msg);
    }
  }

  private status(h: http2.IncomingHttpHeaders, trailers: boolean): void {
    const s = h['grpc-status'];
    if (s === undefined) {
      if (!trailers && Number(h[':status']) !== 200)
        this.fail(new Error(`reflection answered HTTP ${h[':status']}`));
      return;
    }
    if (Number(s) !== 0) this.fail(new GrpcStatusError(Number(s), String(h['grpc-message'] ?? '')));
    else this.fail(new Error('the reflection stream ended'));
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const w of this.waiting.splice(0)) w.reject(this.failure);
  }
}
