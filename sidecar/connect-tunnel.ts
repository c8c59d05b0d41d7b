/**
 * CONNECT on the outbound proxy. For an ignored destination, or TLS without interception, the
 * tunnel is spliced untouched and recorded as one opaque CONNECT pair when it closes. Without
 * interception the upstream is dialled before the client is answered (a dead one gets a 502),
 * then the client's first bytes decide: plain text is recorded, TLS or an upstream that speaks
 * first is spliced opaque. With
 * interception TLS is opened to the real upstream offering the ALPN protocols the client
 * offered that can be recorded (h2, http/1.1), the client's TLS is terminated with a leaf
 * certificate for its SNI (else the CONNECT host) offering only what the upstream chose, and the
 * decrypted streams are tapped like inbound traffic (HTTP/2 when that was the choice).
 * Plain-text HTTP (HTTP/1.1 or h2c) in a tunnel is recorded as http, interception or not; a TLS
 * client offering neither h2 nor http/1.1 is tunnelled opaque.
 */
import type { IncomingMessage } from 'node:http';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { CappedBody } from '../src/protocols/http1/body.js';
import { splitAuthority } from '../src/protocols/http1/pair.js';
import { type FirstBytes, peekFirstBytes } from './client-hello.js';
import { ConnectionTap, type TapContext, type TapFacts } from './connection-tap.js';
import { recordedHead } from './hop-by-hop.js';
import { Splice } from './splice.js';
import type { LeafCertificates } from './tls-interception.js';

export interface ConnectContext {
  rec: TapContext;
  /** Present when --tls-intercept is on. */
  leafs?: LeafCertificates;
  insecureUpstream: boolean;
  /** Roots to verify upstreams with; undefined = Node's defaults. */
  upstreamCa?: string[];
  splices: Set<Splice>;
}

const ESTABLISHED = 'HTTP/1.1 200 Connection Established\r\n\r\n';
/** Application protocols an intercepted tunnel can be recorded in, in the sidecar's preference. */
const RECORDABLE = ['h2', 'http/1.1'];
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
    if (ignored) {
      opaque(ctx, tunnel, false);
      return;
    }
    // Peeked with or without interception: plain text (gRPC's h2c through http_proxy) needs no
    // key to be recorded; only TLS stays opaque without --tls-intercept.
    if (!ctx.leafs) {
      dialThenPeek(ctx, tunnel);
      return;
    }
    socket.write(ESTABLISHED);
    void peekFirstBytes(socket, PEEK_TIMEOUT_MS).then((first) => {
      if (socket.destroyed) return;
      if (first.bytes.length) socket.unshift(first.bytes);
      if (first.bytes.length === 0)
        opaque(ctx, tunnel, true, { answered: true, tags: { reason: 'no-client-bytes' } });
      else if (!first.tls) plain(ctx, tunnel);
      else if (first.alpn && !first.alpn.some((p) => RECORDABLE.includes(p))) {
        opaque(ctx, tunnel, true, { answered: true, tags: { reason: 'alpn', alpn: first.alpn.join(',') } });
      } else intercept(ctx, tunnel, first);
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
  upstream.once('error', (err: NodeJS.ErrnoException) => {
    if (spliced) return;
    if (extra.answered) t.socket.destroy();
    else t.socket.end(BAD_GATEWAY);
    if (record) connectPair(ctx, t, { tunnel: 'opaque', ...extra.tags }, upstreamError(err));
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
    spliceOpaque(ctx, t, upstream, record, extra.tags);
  });
}

/** Splices a connected upstream untouched; one CONNECT pair when the tunnel closes. */
function spliceOpaque(
  ctx: ConnectContext,
  t: Tunnel,
  upstream: net.Socket,
  record: boolean,
  extraTags: Record<string, string> = {},
): void {
  let firstByte = -1;
  t.socket.once('data', (chunk: Buffer) => (firstByte = chunk[0]));
  const splice = new Splice(t.socket, upstream, {
    ready: true,
    badGateway: false,
    onClose: (s) => {
      ctx.splices.delete(s);
      if (!record) return;
      const tags: Record<string, string> = { bytesUp: String(s.bytesUp), bytesDown: String(s.bytesDown) };
      if (firstByte !== -1) tags.tls = String(firstByte === 0x16);
      connectPair(ctx, t, { tunnel: 'opaque', ...extraTags, ...tags });
    },
  });
  ctx.splices.add(splice);
  t.socket.resume();
  upstream.resume();
}

/**
 * Without interception: the upstream first (a dead one is answered 502 and recorded), then the
 * client's first bytes: plain text is recorded as http; TLS, silence, or an upstream that speaks
 * first (SMTP, SSH, MySQL: not HTTP) is spliced opaque at once.
 */
function dialThenPeek(ctx: ConnectContext, t: Tunnel): void {
  const upstream = net.connect({ host: t.host, port: t.port, noDelay: true, allowHalfOpen: true });
  let state: 'dialling' | 'peeking' | 'spliced' = 'dialling';
  upstream.on('error', (err: NodeJS.ErrnoException) => {
    if (state === 'spliced') return; // the splice reports it
    if (state === 'dialling') t.socket.end(BAD_GATEWAY);
    else t.socket.destroy();
    connectPair(ctx, t, { tunnel: 'opaque' }, upstreamError(err));
  });
  t.socket.once('close', () => {
    if (state !== 'spliced') upstream.destroy();
  });
  upstream.once('connect', () => {
    if (t.socket.destroyed) return void upstream.destroy();
    state = 'peeking';
    t.socket.write(ESTABLISHED);
    let serverFirst = false;
    let stopPeek = () => {};
    const onUpstreamData = (chunk: Buffer) => {
      upstream.pause();
      upstream.unshift(chunk);
      // An HTTP/2 server sends its SETTINGS without waiting: the client's preface still decides.
      if (isH2Settings(chunk)) return;
      serverFirst = true;
      stopPeek();
    };
    upstream.once('data', onUpstreamData);
    void peekFirstBytes(t.socket, PEEK_TIMEOUT_MS, (stop) => (stopPeek = stop)).then((first) => {
      upstream.off('data', onUpstreamData);
      // Flowing since the listener was added: paused until the splice listens (no byte lost).
      upstream.pause();
      if (t.socket.destroyed || upstream.destroyed) return void upstream.destroy();
      state = 'spliced';
      if (first.bytes.length) t.socket.unshift(first.bytes);
      if (first.bytes.length && !first.tls && !serverFirst) {
        const facts = { outbound: true, https: false, host: t.host, port: t.port };
        const tap = { ...facts, upstream: { host: t.host, port: t.port, tls: false } };
        spliceRecorded(ctx, t, t.socket, upstream, tap, { ready: true });
        upstream.resume();
        return;
      }
      const reason = serverFirst ? 'server-first' : first.bytes.length ? undefined : 'no-client-bytes';
      spliceOpaque(ctx, t, upstream, true, reason ? { reason } : {});
    });
  });
}

/** A frame header of type SETTINGS (4) on stream 0: how every HTTP/2 server opens a connection. */
function isH2Settings(chunk: Buffer): boolean {
  return chunk.length >= 9 && chunk[3] === 0x04 && (chunk.readUInt32BE(5) & 0x7fffffff) === 0;
}

const BAD_GATEWAY = 'HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n';

function upstreamError(err: NodeJS.ErrnoException): { code: string; message: string } {
  return { code: err.code ?? 'UPSTREAM_ERROR', message: err.message };
}

function connectPair(
  ctx: ConnectContext,
  t: Tunnel,
  tags: Record<string, string>,
  error?: { code: string; message: string },
): void {
  const target = t.req.url ?? '';
  const facts = { outbound: true, https: tags.tls !== 'false', host: t.host, port: t.port };
  try {
    ctx.rec.shipper.exchange({
      conn: 0,
      facts,
      startT: performance.timeOrigin + t.startT,
      endT: performance.timeOrigin + performance.now(),
      reqHead: recordedHead(`CONNECT ${target} HTTP/1.1`, t.req.rawHeaders),
      reqBody: NO_BODY,
      resBody: NO_BODY,
      ...(error ? { error } : { resHead: ESTABLISHED_HEAD }),
      switched: false,
      tags,
    });
  } catch (err) {
    ctx.rec.onError?.(err, { ...facts, upstream: { host: t.host, port: t.port, tls: false } });
  }
}

const NO_BODY = new CappedBody(0);
const ESTABLISHED_HEAD = Buffer.from(ESTABLISHED.slice(0, -4), 'latin1');

/** Plain-text HTTP through the tunnel (HTTP/1.1, or h2c which the tap recognises): recorded as http. */
function plain(ctx: ConnectContext, t: Tunnel): void {
  const upstream = net.connect({ host: t.host, port: t.port, noDelay: true, allowHalfOpen: true });
  const facts = { outbound: true, https: false, host: t.host, port: t.port };
  spliceRecorded(
    ctx,
    t,
    t.socket,
    upstream,
    { ...facts, upstream: { host: t.host, port: t.port, tls: false } },
    {
      readyEvent: 'connect',
    },
  );
}

/** The upstream's side of the handshake: the protocol it chose, or why it failed. */
type UpstreamTls =
  { socket: tls.TLSSocket; alpn: string | false | null } | { socket: tls.TLSSocket; error: Error };

function connectUpstream(
  ctx: ConnectContext,
  t: Tunnel,
  name: string,
  offered: string[],
): Promise<UpstreamTls> {
  const socket = tls.connect({
    host: t.host,
    port: t.port,
    servername: net.isIP(name) ? undefined : name,
    rejectUnauthorized: !ctx.insecureUpstream,
    ca: ctx.upstreamCa,
    ALPNProtocols: offered,
  });
  socket.setNoDelay(true);
  return new Promise((resolve) => {
    socket.once('secureConnect', () => resolve({ socket, alpn: socket.alpnProtocol }));
    socket.once('error', (error) => resolve({ socket, error }));
  });
}

function intercept(ctx: ConnectContext, t: Tunnel, first: FirstBytes): void {
  const name = first.sni || t.host;
  // A client without ALPN speaks HTTP/1.1.
  const offered = first.alpn ? RECORDABLE.filter((p) => first.alpn!.includes(p)) : ['http/1.1'];
  const upstream = connectUpstream(ctx, t, name, offered);
  // Stop the upstream when the client leaves before the handshakes are done.
  t.socket.once('close', () => void upstream.then((u) => u.socket.destroy()));
  Promise.all([ctx.leafs!.contextFor(name), upstream])
    // A TLSSocket that takes over the socket's handle within the read callback that brought
    // the ClientHello (a cached certificate resolves that soon) never sees the handshake and
    // the tunnel hangs: wrap on a later turn of the event loop.
    .then((done) => new Promise<typeof done>((resolve) => setImmediate(resolve, done)))
    .then(
      ([secureContext, up]) => {
        if (t.socket.destroyed) return up.socket.destroy();
        // Offer the client exactly what the upstream chose (HTTP/1.1 when it failed: the 502 is HTTP/1.1).
        const chosen =
          'error' in up ? 'http/1.1' : up.alpn || (offered.includes('http/1.1') ? 'http/1.1' : '');
        const client = new tls.TLSSocket(t.socket, {
          isServer: true,
          secureContext,
          ...(chosen && { ALPNProtocols: [chosen] }),
        });
        client.on('error', () => {
          ctx.rec.counters.tlsErrors++;
          t.socket.destroy();
          up.socket.destroy();
        });
        client.once('secure', () => {
          const facts = { outbound: true, https: true, host: name, port: t.port };
          spliceRecorded(
            ctx,
            t,
            client,
            up.socket,
            { ...facts, upstream: { host: t.host, port: t.port, tls: true }, h2: chosen === 'h2' },
            'error' in up ? { failed: up.error } : { ready: true },
          );
        });
        t.socket.resume();
      },
      (err: Error) => {
        // No certificate, no interception: the tunnel still works, unrecorded content.
        void upstream.then((u) => u.socket.destroy());
        ctx.rec.onError?.(err, {
          outbound: true,
          https: true,
          host: name,
          port: t.port,
          upstream: { host: t.host, port: t.port, tls: true },
        });
        opaque(ctx, t, true, { answered: true, tags: { reason: 'certificate' } });
      },
    );
}

function spliceRecorded(
  ctx: ConnectContext,
  t: Tunnel,
  client: net.Socket,
  upstream: net.Socket,
  facts: TapFacts,
  state: { readyEvent?: 'connect'; ready?: true; failed?: Error },
): void {
  const recorder = new ConnectionTap(ctx.rec, facts);
  const splice = new Splice(client, upstream, {
    recorder,
    ...state,
    badGateway: true,
    onClose: (s) => ctx.splices.delete(s),
  });
  ctx.splices.add(splice);
  client.resume();
}
