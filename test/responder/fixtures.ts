/** Recorded outbound pairs and real HTTP clients (proxy, CONNECT + TLS, direct) for responder tests. */
import { request as httpRequest, type IncomingHttpHeaders, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { RRPair } from '../../src/model/traffic.js';
import { makePair, textBody, type PairSpec } from '../../tools/fixtures/pairs.js';

export interface OutboundSpec extends Omit<PairSpec, 'direction' | 'id' | 'startedAt' | 'service'> {
  scheme?: 'http' | 'https';
}

let seq = 0;

/** An outbound pair: the app called `api.example.com` and got `responseBody` (default `{"n":seq}`). */
export function outbound(s: OutboundSpec = {}): RRPair {
  const n = ++seq;
  const scheme = s.scheme ?? 'https';
  return makePair({
    host: 'api.example.com',
    port: scheme === 'https' ? 443 : 80,
    path: '/v1/items',
    durationMs: 2,
    responseBody: textBody(JSON.stringify({ n })),
    ...s,
    id: `out-${n}`,
    direction: 'outbound',
    service: 'orders',
    startedAt: new Date(Date.UTC(2024, 0, 1, 0, 0, n % 60)).toISOString(),
    scheme,
  });
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

function collect(req: ReturnType<typeof httpRequest>, body?: string | Buffer): Promise<Reply> {
  return new Promise((resolve, reject) => {
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode!,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

export interface Call {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

/** A request through the responder as an HTTP proxy: absolute-form request line. */
export function viaProxy(proxyPort: number, url: string, call: Call = {}): Promise<Reply> {
  const target = new URL(url);
  const opts: RequestOptions = {
    host: '127.0.0.1',
    port: proxyPort,
    method: call.method ?? 'GET',
    path: url,
    headers: { host: target.host, ...call.headers },
    agent: false,
  };
  return collect(httpRequest(opts), call.body);
}

/** A request sent straight to the responder (plain-host mode); `host` is the Host header. */
export function direct(port: number, host: string, path: string, call: Call = {}): Promise<Reply> {
  const opts: RequestOptions = {
    host: '127.0.0.1',
    port,
    method: call.method ?? 'GET',
    path,
    headers: { host, ...call.headers },
    agent: false,
  };
  return collect(httpRequest(opts), call.body);
}

/** Opens a CONNECT tunnel through the proxy and starts TLS in it, trusting only `ca`. */
export function tunnel(proxyPort: number, authority: string, ca: string): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect(proxyPort, '127.0.0.1');
    socket.once('error', reject);
    socket.once('connect', () => socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`));
    let head = '';
    const onData = (chunk: Buffer) => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      if (!/^HTTP\/1\.[01] 200/.test(head))
        return reject(new Error(`CONNECT refused: ${head.split('\r\n')[0]}`));
      const tls = tlsConnect({ socket, servername: authority.split(':')[0], ca });
      tls.once('secureConnect', () => resolve(tls));
      tls.once('error', reject);
    };
    socket.on('data', onData);
  });
}

/** An HTTPS request inside a CONNECT tunnel, as an app with HTTPS_PROXY would send it. */
export async function viaTunnel(proxyPort: number, url: string, ca: string, call: Call = {}): Promise<Reply> {
  const target = new URL(url);
  const socket = await tunnel(proxyPort, `${target.hostname}:${target.port || 443}`, ca);
  const req = httpsRequest({
    host: target.hostname,
    method: call.method ?? 'GET',
    path: target.pathname + target.search,
    headers: call.headers,
    createConnection: () => socket, // used because no agent is given
  });
  return collect(req, call.body);
}
