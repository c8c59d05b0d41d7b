/**
 * The outbound forward proxy (the app's HTTP_PROXY): absolute-form requests
 * (`GET http://host:port/path`) are forwarded with keep-alive agents, bodies streamed both ways
 * and teed into capped recorders; CONNECT goes to the tunnel handler.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import { endToEnd, recordedHeaders } from './hop-by-hop.js';
import type { RecorderContext } from './connection-recorder.js';
import { buildPair, type ExchangeRecord, splitAuthority } from './pair-builder.js';
import { CappedBody } from './recorded-body.js';

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
  ctx: RecorderContext,
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
  ctx: RecorderContext,
  agentFor: (secure: boolean) => http.Agent,
): void {
  const startT = performance.now();
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
  const ex: ExchangeRecord = { startT, endT: startT, method: req.method ?? 'GET', target, reqHeaders: [] };
  let done = false;
  const finish = (error?: ExchangeRecord['error']) => {
    if (done) return;
    done = true;
    if (!record) return;
    ex.endT = performance.now();
    if (error) ex.error = error;
    ex.reqHeaders = recordedHeaders(req.rawHeaders);
    const facts = {
      direction: 'outbound' as const,
      scheme: secure ? ('https' as const) : ('http' as const),
      host,
      port,
    };
    try {
      ctx.record(buildPair(ex, facts, ctx));
    } catch (err) {
      ctx.onError?.(err, facts);
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
  if (record) {
    const body = (ex.reqBody = new CappedBody(ctx.maxBody));
    req.on('data', (chunk: Buffer) => body.add(chunk));
  }
  req.on('error', () => upstream.destroy());
  res.on('error', () => upstream.destroy());
  req.pipe(upstream);

  upstream.on('response', (up: IncomingMessage) => {
    res.writeHead(up.statusCode ?? 502, up.statusMessage, endToEnd(up.rawHeaders));
    if (record) {
      const body = new CappedBody(ctx.maxBody);
      ex.response = {
        status: up.statusCode ?? 0,
        statusText: up.statusMessage ?? '',
        headers: recordedHeaders(up.rawHeaders),
        body,
      };
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
