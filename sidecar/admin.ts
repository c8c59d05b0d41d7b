/** The admin port: /healthz, /metrics (Prometheus text) and /stats (JSON, docs/contracts.md). */
import http from 'node:http';
import type { StatsSnapshot } from './stats.js';

type Metric = [name: string, type: 'counter' | 'gauge', help: string, value: (s: StatsSnapshot) => number];

const METRICS: Metric[] = [
  ['reprise_sidecar_pairs_total', 'counter', 'Exchanges (HTTP/2: streams) recorded.', (s) => s.pairs],
  ['reprise_sidecar_shipped_total', 'counter', 'Exchanges the forwarder acknowledged.', (s) => s.shipped],
  [
    'reprise_sidecar_dropped_total',
    'counter',
    'Exchanges lost whole (buffer full, refused, drain timeout).',
    (s) => s.dropped,
  ],
  ['reprise_sidecar_buffered_pairs', 'gauge', 'Exchanges waiting to be shipped.', (s) => s.bufferedPairs],
  ['reprise_sidecar_buffered_bytes', 'gauge', 'Tap bytes waiting to be shipped.', (s) => s.bufferedBytes],
  ['reprise_sidecar_shipped_bytes_total', 'counter', 'Tap bytes the forwarder acknowledged.', (s) => s.bytes],
  ['reprise_sidecar_forwarder_errors_total', 'counter', 'Batch POSTs that failed.', (s) => s.forwarderErrors],
  [
    'reprise_sidecar_ignored_total',
    'counter',
    'Exchanges proxied but not recorded on purpose.',
    (s) => s.ignored,
  ],
  [
    'reprise_sidecar_parse_errors_total',
    'counter',
    'Connections no longer recorded: bytes were not HTTP/1.x.',
    (s) => s.parseErrors,
  ],
  [
    'reprise_sidecar_unparsed_connections_total',
    'counter',
    'Connections proxied unrecorded: TLS on a plain port, bytes neither HTTP/1.x nor HTTP/2.',
    (s) => s.unparsed,
  ],
  [
    'reprise_sidecar_overflows_total',
    'counter',
    'Connections no longer recorded: too many exchanges awaiting a response.',
    (s) => s.overflows,
  ],
  [
    'reprise_sidecar_tls_errors_total',
    'counter',
    'Intercepted tunnels whose client TLS handshake failed.',
    (s) => s.tlsErrors,
  ],
  ['reprise_sidecar_connections_total', 'counter', 'Client connections accepted.', (s) => s.connections],
  [
    'reprise_sidecar_active_connections',
    'gauge',
    'Proxied connections open now.',
    (s) => s.activeConnections,
  ],
];

export function renderMetrics(s: StatsSnapshot): string {
  let out = '';
  for (const [name, type, help, value] of METRICS) {
    out += `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n${name} ${value(s)}\n`;
  }
  return out;
}

export function createAdmin(stats: () => StatsSnapshot): http.Server {
  return http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET' }).end();
    } else if (path === '/healthz') {
      send(res, 'application/json', JSON.stringify({ status: 'ok' }));
    } else if (path === '/stats') {
      send(res, 'application/json', JSON.stringify(stats()));
    } else if (path === '/metrics') {
      send(res, 'text/plain; version=0.0.4', renderMetrics(stats()));
    } else {
      send(res, 'application/json', JSON.stringify({ error: 'not found' }), 404);
    }
  });
}

function send(res: http.ServerResponse, type: string, body: string, status = 200): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
