/** Small RRPairs for the store tests. */
import type { RRPair } from '../../src/model/traffic.js';

export function pair(i: number, over: Partial<RRPair> = {}, path = `/orders/${i}`): RRPair {
  const data = `{"id":${i},"name":"order ${i}","total":${(i * 7) % 1000}}`;
  return {
    id: `p-${i}`,
    direction: 'inbound',
    service: 'orders',
    protocol: 'http/1.1',
    startedAt: new Date(Date.UTC(2024, 4, 14, 9, 0, 0) + i).toISOString(),
    durationMs: 1.25,
    request: {
      method: 'GET',
      scheme: 'http',
      host: 'orders.local',
      port: 8080,
      path,
      query: [['expand', 'items']],
      headers: [
        ['accept', 'application/json'],
        ['x-request-id', `req-${i}`],
      ],
    },
    response: {
      status: 200,
      headers: [['content-type', 'application/json']],
      body: { encoding: 'utf8', data, size: Buffer.byteLength(data), truncated: false },
    },
    tags: {},
    ...over,
  };
}
