/**
 * CONNECT on the outbound proxy. Without interception (or for an ignored destination) the
 * tunnel is spliced untouched and recorded as one opaque CONNECT pair when it closes. With
 * interception the client's TLS is terminated with a leaf certificate for its SNI (else the
 * CONNECT host), TLS is opened to the real upstream, and the decrypted streams are recorded
 * like inbound traffic. Tunnels that are not HTTP/1.1 over TLS are handled without guessing:
 * plain-text HTTP is recorded as http, an h2-only TLS client is tunnelled opaque.
 */
import type { IncomingMessage } from 'node:http';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { peekFirstBytes } from './client-hello.js';
import { ConnectionRecorder, type RecorderContext } from './connection-recorder.js';
import { recordedHeaders } from './hop-by-hop.js';
import { buildPair, type ExchangeRecord, splitAuthority } from './pair-builder.js';
import { Splice } from './splice.js';
import type { LeafCertificates } from './tls-interception.js';

export interface ConnectContext {
  rec: RecorderContext;
  /** Present when --tls-intercept is on. */
  leafs?: LeafCertificates;
  insecureUpstream: boolean;
  /** Roots to verify upstreams with; undefined = Node's defaults. */
  upstreamCa?: string[];
  splices: Set<Splice>;
}

const ESTABLISHED = 'HTTP/1.1 200 Connection Established\r\n\r\n';
/** How long to wait for a tunnel's first bytes before treating it as opaque (server speaks first). */
const PEEK_TIMEOUT_MS = 1000;

export function createConnectHandler(ctx: ConnectContext) {
  return (req: IncomingMessage, rawSocket: Duplex, head: Buffer): void => {
    const socket = rawSocket as net.Socket;
    // Node hands over a CONNECT socket with no listeners: hold its bytes until we decide, and
    // never let a reset crash the process (the splice takes over error handling later).
    socket.pause();
    socket.on('error', () => socket.destroy());
    socket.setNoDelay(true);
    const { host, port } = splitAuthority(req.url ?? '', 443);
    if (!host || !(port > 0)) {
      socket.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
      return;
    }
    if (head.length) socket.unshift(head);
    const tunnel = { req, socket, host, port, startT: performance.now() };
    const ignored = ctx.rec.ignore.destination(host, port);
    if (ignored) ctx.rec.counters.ignored++;
    if (!ctx.leafs || ignored) {
      opaque(ctx, tunnel, !ignored);
      return;
    }
    socket.write(ESTABLISHED);
    void peekFirstBytes(socket, PEEK_TIMEOUT_MS).then((first) => {
      if (socket.destroyed) return;
      if (first.bytes.length) socket.unshift(first.bytes);
      if (first.bytes.length === 0)
        opaque(ctx, tunnel, true, { answered: true, tags: { reason: 'no-client-bytes' } });
      else if (!first.tls) plain(ctx, tunnel);
      else if (first.alpn && !first.alpn.includes('http/1.1')) {
        opaque(ctx, tunnel, true, { answered: true, tags: { reason: 'alpn', alpn: first.alpn.join(',') } });
      } else intercept(ctx, tunnel, first.sni);
    });
  };
}

interface Tunnel {
  req: IncomingMessage;
  socket: net.Socket;
  host: string;
  port: number;
  startT: number;
}

/** Splice untouched; one CONNECT pair when it closes (or with the error when it could not open). */
function opaque(
  ctx: ConnectContext,
  t: Tunnel,
  record: boolean,
  extra: { answered?: boolean; tags?: Record<string, string> } = {},
): void {
  const upstream = net.connect({ host: t.host, port: t.port, noDelay: true, allowHalfOpen: true });
  let spliced = false;
  let firstByte = -1;
  t.socket.once('data', (chunk: Buffer) => (firstByte = chunk[0]));
  const pairFor = (tags: Record<string, string>, error?: ExchangeRecord['error']) =>
    connectPair(ctx, t, { tunnel: 'opaque', ...extra.tags, ...tags }, error);
  upstream.once('error', (err: NodeJS.ErrnoException) => {
    if (spliced) return;
    if (extra.answered) t.socket.destroy();
    else t.socket.end(`HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`);
    if (record) pairFor({}, { code: err.code ?? 'UPSTREAM_ERROR', message: err.message });
  });
  // A client gone before the upstream answered: nothing to splice (the splice would wait forever).
  t.socket.once('close', () => {
    if (!spliced) upstream.destroy();
  });
  upstream.once('connect', () => {
    spliced = true;
    if (t.socket.destroyed) {
      upstream.destroy();
      return;
    }
    if (!extra.answered) t.socket.write(ESTABLISHED);
    const splice = new Splice(t.socket, upstream, {
      readyEvent: 'connect',
      badGateway: false,
      onClose: (s) => {
        ctx.splices.delete(s);
        if (!record) return;
        const tags: Record<string, string> = { bytesUp: String(s.bytesUp), bytesDown: String(s.bytesDown) };
        if (firstByte !== -1) tags.tls = String(firstByte === 0x16);
        pairFor(tags);
      },
    });
    ctx.splices.add(splice);
    t.socket.resume();
  });
}

function connectPair(
  ctx: ConnectContext,
  t: Tunnel,
  tags: Record<string, string>,
  error?: ExchangeRecord['error'],
): void {
  const ex: ExchangeRecord = {
    startT: t.startT,
    endT: performance.now(),
    method: 'CONNECT',
    target: t.req.url ?? '',
    reqHeaders: recordedHeaders(t.req.rawHeaders),
    tags,
    ...(error ? { error } : { response: { status: 200, statusText: 'Connection Established', headers: [] } }),
  };
  const scheme = tags.tls === 'false' ? 'http' : 'https';
  const facts = { direction: 'outbound' as const, scheme, host: t.host, port: t.port } as const;
  try {
    ctx.rec.record(
      buildPair(ex, facts, ctx.rec, { scheme, host: t.host, port: t.port, path: '', query: [] }),
    );
  } catch (err) {
    ctx.rec.onError?.(err, facts);
  }
}

/** Plain-text HTTP through the tunnel: recorded as http. */
function plain(ctx: ConnectContext, t: Tunnel): void {
  const upstream = net.connect({ host: t.host, port: t.port, noDelay: true, allowHalfOpen: true });
  spliceRecorded(ctx, t, t.socket, upstream, 'http', t.host, 'connect');
}

function intercept(ctx: ConnectContext, t: Tunnel, sni: string | undefined): void {
  const name = sni || t.host;
  ctx
    .leafs!.contextFor(name)
    // A TLSSocket that takes over the socket's handle within the read callback that brought
    // the ClientHello (a cached certificate resolves that soon) never sees the handshake and
    // the tunnel hangs: wrap on a later turn of the event loop.
    .then(
      (secureContext) => new Promise<typeof secureContext>((resolve) => setImmediate(resolve, secureContext)),
    )
    .then(
      (secureContext) => {
        if (t.socket.destroyed) return;
        const client = new tls.TLSSocket(t.socket, {
          isServer: true,
          secureContext,
          ALPNProtocols: ['http/1.1'],
        });
        client.on('error', () => {
          ctx.rec.counters.tlsErrors++;
          t.socket.destroy();
        });
        client.once('secure', () => {
          const upstream = tls.connect({
            host: t.host,
            port: t.port,
            servername: net.isIP(name) ? undefined : name,
            rejectUnauthorized: !ctx.insecureUpstream,
            ca: ctx.upstreamCa,
            ALPNProtocols: ['http/1.1'],
          });
          upstream.setNoDelay(true);
          spliceRecorded(ctx, t, client, upstream, 'https', name, 'secureConnect');
        });
        t.socket.resume();
      },
      (err: Error) => {
        // No certificate, no interception: the tunnel still works, unrecorded content.
        ctx.rec.onError?.(err, { direction: 'outbound', scheme: 'https', host: name, port: t.port });
        opaque(ctx, t, true, { answered: true, tags: { reason: 'certificate' } });
      },
    );
}

function spliceRecorded(
  ctx: ConnectContext,
  t: Tunnel,
  client: net.Socket,
  upstream: net.Socket,
  scheme: 'http' | 'https',
  host: string,
  readyEvent: 'connect' | 'secureConnect',
): void {
  const recorder = new ConnectionRecorder(ctx.rec, { direction: 'outbound', scheme, host, port: t.port });
  const splice = new Splice(client, upstream, {
    recorder,
    readyEvent,
    badGateway: true,
    onClose: (s) => ctx.splices.delete(s),
  });
  ctx.splices.add(splice);
  client.resume();
}
