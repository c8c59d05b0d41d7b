/** Small RRPairs for the store tests: pair `i` is `GET /orders/i` answered with order `i`. */
import type { RRPair } from '../../src/model/traffic.js';
import { makePair, textBody } from '../../tools/fixtures/pairs.js';

export function pair(i: number, over: Partial<RRPair> = {}, path = `/orders/${i}`): RRPair {
  return {
    ...makePair({
      id: `p-${i}`,
      startedAt: new Date(Date.UTC(2024, 4, 14, 9, 0, 0) + i).toISOString(),
      durationMs: 1.25,
      path,
      query: [['expand', 'items']],
      headers: [
        ['accept', 'application/json'],
        ['x-request-id', `req-${i}`],
      ],
      responseBody: textBody(`{"id":${i},"name":"order ${i}","total":${(i * 7) % 1000}}`),
    }),
    ...over,
  };
}
