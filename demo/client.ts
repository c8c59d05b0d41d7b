/**
 * Demo client: drives varied traffic at `orders` (through the sidecar during capture):
 * GETs with query strings, JSON POSTs with a bearer token and personal data, lookups that
 * make `orders` call `inventory`, and a miss.
 */
import { callJson } from './http-util.js';

export interface DriveResult {
  requests: number;
  failures: number;
}

export async function driveTraffic(baseUrl: string, rounds = 3): Promise<DriveResult> {
  let requests = 0;
  let failures = 0;
  const call = async (method: string, path: string, body?: unknown, headers?: Record<string, string>) => {
    requests++;
    try {
      // A client of the service, not the service: never through the service's HTTP_PROXY.
      const res = await callJson(method, baseUrl + path, body, headers, undefined);
      if (res.status >= 500) failures++;
    } catch {
      failures++;
    }
  };
  for (let round = 0; round < rounds; round++) {
    await call('GET', `/orders?customer=ada&limit=5`);
    await call('GET', `/orders?customer=grace&limit=${round + 1}`);
    await call('GET', '/orders/ord-1001');
    await call('GET', '/orders/ord-1002');
    await call('GET', '/orders/ord-9999');
    await call(
      'POST',
      '/orders',
      {
        customer: 'ada',
        // Rounds 0 and 2 repeat the same order, as real traffic repeats requests.
        sku: round % 2 ? 'sku-3' : 'sku-1',
        qty: (round % 2) + 1,
        email: 'ada.lovelace@example.com',
        card: '4111 1111 1111 1111',
      },
      { authorization: 'Bearer demo-secret-token-6f1c2a9e' },
    );
  }
  return { requests, failures };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const base = process.argv[2] ?? 'http://127.0.0.1:4143';
  const result = await driveTraffic(base, Number(process.argv[3] ?? 3));
  process.stdout.write(JSON.stringify(result) + '\n');
}
