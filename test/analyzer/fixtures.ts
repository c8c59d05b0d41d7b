/** Builders for recorded pairs and observed exchanges, shared by the analyzer and report tests. */
import { Assertions, Goals } from '../../src/config/replay.js';
import { encodeBody } from '../../src/model/body.js';
import type { ObservedExchange } from '../../src/model/replay.js';
import type { HeaderList, RRPair } from '../../src/model/traffic.js';
import type { ReportMeta } from '../../src/report/schema.js';

export const T0 = Date.parse('2025-03-01T10:00:00.000Z');

const body = (value: unknown) =>
  value === undefined
    ? undefined
    : encodeBody(Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)));

export interface PairSpec {
  id: string;
  method?: string;
  path: string;
  query?: [string, string][];
  requestBody?: unknown;
  status?: number;
  /** A JSON value (stringified) or a string sent as is. */
  body?: unknown;
  headers?: HeaderList;
  /** ms after T0 */
  at?: number;
  noResponse?: boolean;
}

export function pair(s: PairSpec): RRPair {
  const json = s.body !== undefined && typeof s.body !== 'string';
  return {
    id: s.id,
    direction: 'inbound',
    service: 'orders',
    protocol: 'http/1.1',
    startedAt: new Date(T0 + (s.at ?? 0)).toISOString(),
    durationMs: 5,
    request: {
      method: s.method ?? 'GET',
      scheme: 'http',
      host: 'orders.local',
      port: 8080,
      path: s.path,
      query: s.query ?? [],
      headers: [['host', 'orders.local']],
      body: body(s.requestBody),
    },
    response: s.noResponse
      ? undefined
      : {
          status: s.status ?? 200,
          headers: s.headers ?? [['content-type', json ? 'application/json' : 'text/html; charset=utf-8']],
          body: body(s.body),
        },
    tags: {},
  };
}

export interface ObservedSpec {
  pairId: string;
  method?: string;
  url?: string;
  status?: number;
  body?: unknown;
  headers?: HeaderList;
  latencyMs?: number;
  /** ms after T0 */
  at?: number;
  error?: string;
  pass?: number;
}

export function observed(s: ObservedSpec): ObservedExchange {
  const json = s.body !== undefined && typeof s.body !== 'string';
  return {
    pairId: s.pairId,
    pass: s.pass ?? 0,
    sentAt: new Date(T0 + 3_600_000 + (s.at ?? 0)).toISOString(),
    latencyMs: s.latencyMs ?? 10,
    request: { method: s.method ?? 'GET', url: s.url ?? `http://127.0.0.1:8080/${s.pairId}` },
    response: s.error
      ? undefined
      : {
          status: s.status ?? 200,
          headers: s.headers ?? [['content-type', json ? 'application/json' : 'text/html; charset=utf-8']],
          body: body(s.body),
        },
    error: s.error,
  };
}

export async function* stream<T>(items: readonly T[]): AsyncIterable<T> {
  for (const item of items) yield item;
}

export const defaultAssertions = (over: Partial<Assertions['body']> = {}, headers?: string[]): Assertions =>
  Assertions.parse({ headers, body: over });

export const noGoals: Goals = Goals.parse({});

export const meta = (over: Partial<ReportMeta> = {}): ReportMeta => ({
  replayId: 'rp-test',
  snapshotId: 'snap-test',
  target: 'http://127.0.0.1:8080',
  mode: 'full-replay',
  startedAt: new Date(T0 + 3_600_000).toISOString(),
  endedAt: new Date(T0 + 3_600_000 + 5_000).toISOString(),
  ...over,
});
