/** Loopback plumbing for the dev cluster: free ports, and small bounded HTTP(S) requests. */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { createServer, type Server } from 'node:net';

const REQUEST_TIMEOUT_MS = 5_000;
/** Health answers and single objects: far below this. */
const BODY_LIMIT = 4 * 1024 * 1024;

/** `count` distinct ports free right now on `host` (held open together so none repeats). */
export async function freePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, host, resolve);
      });
    }
    return servers.map((s) => (s.address() as { port: number }).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  }
}

export interface HttpResponse {
  status: number;
  body: string;
}

/** One HTTP(S) request with a bound; resolves on any status, rejects on network errors. */
export function fetchText(
  url: string,
  options: RequestOptions & { body?: string } = {},
): Promise<HttpResponse> {
  const { body, ...rest } = options;
  const send = url.startsWith('https:') ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, { ...rest, timeout: REQUEST_TIMEOUT_MS }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > BODY_LIMIT) req.destroy(new Error(`${url} answered more than ${BODY_LIMIT} bytes`));
        else chunks.push(chunk);
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${url} did not answer within ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}
