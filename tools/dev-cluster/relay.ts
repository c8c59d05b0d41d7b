/**
 * A TCP relay from an address pods reach (the host's end of a real node's link) to a server
 * on this machine's loopback: Temporal's dev server works only on 127.0.0.1 (started on
 * another address, every workflow start times out), so pods get it through this. Run as a
 * cluster component (state.json records it; teardown stops it).
 *
 * Usage: node relay.js LISTEN_HOST:PORT TARGET_HOST:PORT
 */
import { createConnection, createServer, type Socket } from 'node:net';

/** Temporal clients hold a few long-lived connections; this bounds a runaway client. */
const MAX_CONNECTIONS = 256;

function hostPort(text: string | undefined, what: string): { host: string; port: number } {
  const match = /^(.+):(\d+)$/.exec(text ?? '');
  if (!match) {
    process.stderr.write(
      `relay: ${what}: expected HOST:PORT, got "${text ?? ''}"\nusage: relay.js LISTEN_HOST:PORT TARGET_HOST:PORT\n`,
    );
    process.exit(2);
  }
  return { host: match[1], port: Number(match[2]) };
}

const listen = hostPort(process.argv[2], 'listen address');
const target = hostPort(process.argv[3], 'target address');
let refused = 0;

const server = createServer((client: Socket) => {
  const upstream = createConnection(target);
  const close = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', close).on('close', close);
  upstream.on('error', close).on('close', close);
  client.pipe(upstream);
  upstream.pipe(client);
});
server.maxConnections = MAX_CONNECTIONS;
server.on('drop', () => {
  refused++;
  process.stderr.write(`relay: refused a connection past ${MAX_CONNECTIONS} (${refused} so far)\n`);
});
server.listen(listen.port, listen.host, () => {
  process.stdout.write(
    `${JSON.stringify({ relay: `${listen.host}:${listen.port}`, target: `${target.host}:${target.port}` })}\n`,
  );
});
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => process.exit(0));
