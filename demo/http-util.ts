/** Small helpers shared by the demo services: JSON in and out, and calls through HTTP_PROXY. */
import http from 'node:http';

export function sendJson(res: http.ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

export async function readJson(req: http.IncomingMessage, limit = 1024 * 1024): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new Error(`request body over ${limit} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : undefined;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/**
 * Calls `url`. Node 20's http client ignores HTTP_PROXY, so, like many real services, the
 * demo honours it itself: the request goes to the proxy in absolute form.
 */
export function callJson(
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
  proxy: string | undefined = process.env.HTTP_PROXY || process.env.http_proxy,
): Promise<{ status: number; json: unknown }> {
  const target = new URL(url);
  const via = proxy ? new URL(proxy) : undefined;
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        agent,
        method,
        host: via?.hostname ?? target.hostname,
        port: via?.port ?? target.port,
        path: via ? target.href : target.pathname + target.search,
        headers: {
          host: target.host,
          ...(payload
            ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
            : {}),
          ...headers,
        },
        timeout: 5000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          try {
            resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : undefined });
          } catch {
            resolve({ status: res.statusCode ?? 0, json: text });
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout calling ${url}`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** Starts `server` on `port` (0 = any) on loopback and prints a ready line for the parent. */
export function listen(server: http.Server, port: number, name: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const addr = server.address();
      const actual = typeof addr === 'object' && addr ? addr.port : port;
      process.stdout.write(
        JSON.stringify({ event: 'ready', service: name, port: actual, pid: process.pid }) + '\n',
      );
      resolve(actual);
    });
  });
}

export function stopOnSignals(server: http.Server): void {
  const stop = () => server.close(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
