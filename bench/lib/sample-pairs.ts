/** Realistic recorded pairs for benchmarks. */
import type { RRPair } from '../../src/model/traffic.js';

const body = (data: unknown) => {
  const text = JSON.stringify(data);
  return { encoding: 'utf8' as const, data: text, size: Buffer.byteLength(text), truncated: false };
};

/** A realistic ~1 KB mix: reads, writes with a customer record, outbound calls with a token. */
export function samplePair(i: number): RRPair {
  const kind = i % 4;
  const startedAt = new Date(Date.UTC(2024, 0, 1) + i * 7).toISOString();
  const common = [
    ['host', 'orders.svc.cluster.local:8080'],
    ['user-agent', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0.0.0 Safari/537.36'],
    ['accept', 'application/json'],
    ['x-request-id', `0f8fad5b-d9cb-469f-a165-${String(700000000000 + i)}`],
    ['traceparent', `00-4bf92f3577b34da6a3ce929d0e0e${String(1000 + (i % 9000))}-00f067aa0ba902b7-01`],
  ] as [string, string][];
  const resHeaders: [string, string][] = [
    ['content-type', 'application/json; charset=utf-8'],
    ['date', 'Mon, 01 Jan 2024 00:00:00 GMT'],
    ['cache-control', 'no-store'],
  ];
  const base = {
    id: `bench-${i}`,
    service: 'orders',
    protocol: 'http/1.1' as const,
    startedAt,
    durationMs: 2.5,
    tags: {},
  };
  if (kind === 0 || kind === 1) {
    return {
      ...base,
      direction: 'inbound',
      request: {
        method: 'GET',
        scheme: 'http',
        host: 'orders.svc.cluster.local',
        port: 8080,
        path: `/api/v1/orders/${10000 + i}`,
        query: [['include', 'items']],
        headers: [...common, ['authorization', `Bearer user-session-${i % 200}-abcdef0123456789`]],
      },
      response: {
        status: 200,
        headers: resHeaders,
        body: body({
          id: 10000 + i,
          status: 'shipped',
          items: [
            { sku: 'SKU-1001', qty: 2, price: 19.99 },
            { sku: 'SKU-2002', qty: 1, price: 5.5 },
          ],
          total: 45.48,
          currency: 'EUR',
          updatedAt: startedAt,
        }),
      },
    };
  }
  if (kind === 2) {
    return {
      ...base,
      direction: 'inbound',
      request: {
        method: 'POST',
        scheme: 'http',
        host: 'orders.svc.cluster.local',
        port: 8080,
        path: '/api/v1/orders',
        query: [],
        headers: [
          ...common,
          ['content-type', 'application/json'],
          ['cookie', `sid=s${i % 300}x; theme=dark`],
        ],
        body: body({
          customer: { name: 'Jane Doe', email: `jane.${i % 500}@example.com`, phone: '+14155552671' },
          items: [{ sku: 'SKU-1001', qty: 2 }],
          note: 'leave at the door',
        }),
      },
      response: { status: 201, headers: resHeaders, body: body({ id: 10000 + i, status: 'created' }) },
    };
  }
  return {
    ...base,
    direction: 'outbound',
    request: {
      method: 'GET',
      scheme: 'http',
      host: 'inventory.svc.cluster.local',
      port: 8081,
      path: `/stock/SKU-${1000 + (i % 50)}`,
      query: [['warehouse', 'eu-west-1']],
      headers: [...common, ['x-api-key', 'inv-key-0123456789']],
    },
    response: {
      status: 200,
      headers: resHeaders,
      body: body({
        sku: `SKU-${1000 + (i % 50)}`,
        available: 120 + (i % 30),
        reserved: 3,
        warehouse: 'eu-west-1',
      }),
    },
  };
}
