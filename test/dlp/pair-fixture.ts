/** Builds RRPairs for DLP, filter and forwarder tests. */
import type { Body, HeaderList, RRPair } from '../../src/model/traffic.js';

export function textBody(data: string, extra: Partial<Body> = {}): Body {
  return { encoding: 'utf8', data, size: Buffer.byteLength(data), truncated: false, ...extra };
}

export interface PairSpec {
  id?: string;
  direction?: RRPair['direction'];
  service?: string;
  method?: string;
  host?: string;
  port?: number;
  path?: string;
  query?: [string, string][];
  headers?: HeaderList;
  body?: Body;
  status?: number;
  responseHeaders?: HeaderList;
  responseBody?: Body;
  noResponse?: boolean;
}

let seq = 0;

export function makePair(s: PairSpec = {}): RRPair {
  return {
    id: s.id ?? `pair-${++seq}`,
    direction: s.direction ?? 'inbound',
    service: s.service ?? 'orders',
    protocol: 'http/1.1',
    startedAt: new Date(Date.UTC(2024, 0, 1, 0, 0, seq % 60)).toISOString(),
    durationMs: 1.5,
    request: {
      method: s.method ?? 'GET',
      scheme: 'http',
      host: s.host ?? 'orders.local',
      port: s.port ?? 8080,
      path: s.path ?? '/api/orders',
      query: s.query ?? [],
      headers: s.headers ?? [['accept', 'application/json']],
      body: s.body,
    },
    response: s.noResponse
      ? undefined
      : {
          status: s.status ?? 200,
          headers: s.responseHeaders ?? [['content-type', 'application/json']],
          body: s.responseBody,
        },
    tags: {},
  };
}

export const json = (value: unknown) => textBody(JSON.stringify(value));
