/**
 * The outbound forward proxy (the app's HTTP_PROXY): absolute-form requests
 * (`GET http://host:port/path`) are forwarded with keep-alive agents, bodies streamed both ways
 * and teed into capped bodies; each exchange goes to the shipper as the tap would have seen it
 * (heads rebuilt from node:http's raw headers). CONNECT goes to the tunnel handler.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import { CappedBody } from '../src/protocols/http1/body.js';
import { splitAuthority } from '../src/protocols/http1/pair.js';
import type { ExchangeParts } from '../src/protocols/capture/writer.js';
import type { TapContext } from './connection-tap.js';
import { endToEnd, recordedHead } from './hop-by-hop.js';

export interface ForwardProxyOptions {
  insecureUpstream: boolean;
  /** Roots to verify https upstreams with; undefined = Node's defaults. */
  upstreamCa?: string[];
}

export interface ForwardProxy {
  server: http.Server;
  close(): void;
}

export function createForwardProxy(
  opts: ForwardProxyOptions,
  ctx: TapContext,
  onConnect: (req: IncomingMessage, socket: import('node:stream').Duplex, head: Buffer) => void,
): ForwardProxy {
  const httpAgent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const httpsAgent = new https.Agent({
    keepAlive: true,
    maxSockets: 256,
    rejectUnauthorized: !opts.insecureUpstream,
    ca: opts.upstreamCa,
  });
  const server = http.createServer({ noDelay: true }, (req, res) =>
    forward(req, res, ctx, (secure) => (secure ? httpsAgent : httpAgent)),
  );
  server.on('connect', onConnect);
  server.on('connection', () => ctx.counters.connections++);
  return {
    server,
    close() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}

function forward(
  req: IncomingMessage,
  res: ServerResponse,
  ctx: TapContext,
  agentFor: (secure: boolean) => http.Agent,
): void {
  const target = req.url ?? '';
  const m = /^(https?):\/\/([^/?#]+)([^#]*)/i.exec(target);
  if (!m) {
    res.writeHead(400, { 'content-type': 'text/plain' });
    res.end('reprise sidecar: a forward proxy; send absolute-form requests (http://host/path) or CONNECT\n');
    return;
  }
  const secure = m[1].toLowerCase() === 'https';
  const { host, port } = splitAuthority(m[2], secure ? 443 : 80);
  const record = !ctx.ignore.destination(host, port);
  if (!record) ctx.counters.ignored++;
  const headers = endToEnd(req.rawHeaders);
  if (!req.rawHeaders.some((_, i) => i % 2 === 0 && req.rawHeaders[i].toLowerCase() === 'host')) {
    headers.push('Host', m[2]);
  }
  const ex: ExchangeParts = {
    conn: 0,
    facts: { outbound: true, https: secure, host, port },
    startT: performance.timeOrigin + performance.now(),
    endT: 0,
    reqHead: recordedHead(`${req.method ?? 'GET'} ${target} HTTP/1.1`, req.rawHeaders),
    reqBody: new CappedBody(ctx.maxBody),
    resBody: new CappedBody(0),
    switched: false,
  };
  let done = false;
  const finish = (error?: ExchangeParts['error']) => {
    if (done) return;
    done = true;
    if (!record) return;
    ex.endT = performance.timeOrigin + performance.now();
    if (error) ex.error = error;
    try {
      ctx.shipper.exchange(ex);
    } catch (err) {
      ctx.onError?.(err, { ...ex.facts, upstream: { host, port, tls: secure } });
    }
  };

  const upstream = (secure ? https : http).request({
    host,
    port,
    method: req.method,
    path: m[3].startsWith('/') ? m[3] : `/${m[3]}`,
    headers,
    agent: agentFor(secure),
    setHost: false,
  });
  if (record) req.on('data', (chunk: Buffer) => (ex.reqBody as CappedBody).add(chunk));
  req.on('error', () => upstream.destroy());
  res.on('error', () => upstream.destroy());
  req.pipe(upstream);

  upstream.on('response', (up: IncomingMessage) => {
    res.writeHead(up.statusCode ?? 502, up.statusMessage, endToEnd(up.rawHeaders));
    if (record) {
      ex.resHead = recordedHead(`HTTP/1.1 ${up.statusCode ?? 0} ${up.statusMessage ?? ''}`, up.rawHeaders);
      const body = (ex.resBody = new CappedBody(ctx.maxBody));
      up.on('data', (chunk: Buffer) => body.add(chunk));
    }
    up.pipe(res);
    up.on('end', () => finish());
    up.on('error', (err: NodeJS.ErrnoException) => {
      res.destroy();
      finish({ code: 'INCOMPLETE_RESPONSE', message: err.message });
    });
  });
  upstream.on('error', (err: NodeJS.ErrnoException) => {
    if (!res.headersSent) {
      const body = JSON.stringify({ error: 'upstream unreachable', code: err.code ?? 'UPSTREAM_ERROR' });
      res.writeHead(502, { 'content-type': 'application/json', 'x-reprise-sidecar': 'upstream-unreachable' });
      res.end(body);
    } else res.destroy();
    finish({ code: err.code ?? 'UPSTREAM_ERROR', message: err.message });
  });
  // The client went away before the answer was complete: stop the upstream call too.
  res.on('close', () => {
    if (res.writableFinished) return;
    upstream.destroy();
    finish({ code: 'CLIENT_CLOSED', message: 'the client closed before the response was complete' });
  });
}
