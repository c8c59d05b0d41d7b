/**
 * The two floors any Node.js proxy can reach on this machine, each run in its own process:
 * `pipe` splices sockets with no HTTP parsing at all; `http` is a plain node:http pass-through
 * reverse proxy (keep-alive agent to the app). Neither records anything.
 * `node dist/bench/lib/floors.js pipe|http APP_PORT` prints `{"port":N}` when listening.
 * `floors.js sink` is a discarding tap sink: it reads each tap batch a sidecar POSTs and answers
 * 204 as the forwarder does, storing nothing; it stands in for a forwarder on another machine,
 * so a sidecar's own cost can be measured without its forwarder's CPU on these cores.
 */
import http from 'node:http';
import net from 'node:net';

const [mode, appPortText] = process.argv.slice(2);
const appPort = Number(appPortText);
if (mode !== 'sink' && ((mode !== 'pipe' && mode !== 'http') || !(appPort > 0))) {
  process.stderr.write('usage: floors.js pipe|http APP_PORT | floors.js sink\n');
  process.exit(2);
}

function pipeServer(): net.Server {
  return net.createServer({ noDelay: true }, (client) => {
    const upstream = net.connect({ port: appPort, host: '127.0.0.1', noDelay: true });
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
}

function httpServer(): http.Server {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const server = http.createServer((req, res) => {
    const up = http.request(
      { host: '127.0.0.1', port: appPort, method: req.method, path: req.url, headers: req.headers, agent },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  server.keepAliveTimeout = 60_000;
  return server;
}

function tapSink(): http.Server {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(204).end());
  });
  server.keepAliveTimeout = 60_000;
  return server;
}

const server = mode === 'pipe' ? pipeServer() : mode === 'http' ? httpServer() : tapSink();
server.listen(0, '127.0.0.1', () =>
  process.stdout.write(JSON.stringify({ port: (server.address() as net.AddressInfo).port }) + '\n'),
);
process.on('SIGTERM', () => process.exit(0));
