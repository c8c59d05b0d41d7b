/**
 * The small JSON app over HTTPS (the upstream of the TLS measures), in its own process.
 * `node dist/bench/lib/https-app.js KEY_FILE CERT_FILE` prints `{"port":N}` when listening.
 */
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

const [keyFile, certFile] = process.argv.slice(2);
const server = https.createServer(
  { key: readFileSync(keyFile), cert: readFileSync(certFile), keepAliveTimeout: 60_000 },
  (req, res) => {
    const body = JSON.stringify({ ok: true, path: req.url, at: 1710000000000 });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  },
);
server.listen(0, '127.0.0.1', () =>
  process.stdout.write(JSON.stringify({ port: (server.address() as AddressInfo).port }) + '\n'),
);
process.on('SIGTERM', () => process.exit(0));
