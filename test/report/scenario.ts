/**
 * A replay that exercises every part of the report: several endpoints, volatile fields,
 * a real regression, an error, responder misses, logs, and hostile strings from traffic.
 */
import { Goals } from '../../src/config/replay.js';
import type { AnalyzeInput } from '../../src/analyzer/index.js';
import type { ObservedExchange } from '../../src/model/replay.js';
import type { RRPair } from '../../src/model/traffic.js';
import { defaultAssertions, meta, observed, pair, stream, T0 } from '../analyzer/fixtures.js';

/** Executes only if the report fails to escape traffic: it marks the page. */
export const XSS_SCRIPT = `<script>document.documentElement.setAttribute('data-pwned','script')</script>`;
export const XSS_IMG = `<img src=x onerror="document.documentElement.setAttribute('data-pwned','img')">`;

const uuid = (n: number) =>
  `${n.toString(16).padStart(8, '0')}-4a1b-4c2d-8e3f-${(n * 7919).toString(16).padStart(12, '0')}`;

export function scenario(): AnalyzeInput {
  const recorded: RRPair[] = [];
  const seen: ObservedExchange[] = [];
  let n = 0;
  const add = (spec: Parameters<typeof pair>[0], replay: Omit<Parameters<typeof observed>[0], 'pairId'>) => {
    recorded.push(pair(spec));
    seen.push(
      observed({ pairId: spec.id, method: spec.method, url: `http://127.0.0.1:8080${spec.path}`, ...replay }),
    );
  };
  for (let i = 0; i < 240; i++) {
    const at = i * 150;
    const orderId = (i % 12) + 1;
    // Same order fetched repeatedly: fetchedAt and requestId differ between recordings.
    const order = (total: number, fetched: number) => ({
      id: orderId,
      requestId: uuid(i * 3 + fetched),
      fetchedAt: new Date(T0 + at + fetched).toISOString(),
      customer: { name: 'Ada Lovelace', tier: 'gold' },
      items: [
        { sku: 'A-1', qty: 1, price: 4 },
        { sku: 'B-2', qty: 2, price: 3 },
      ],
      total,
    });
    const slow = 18 + Math.round(12 * Math.sin(i / 9) ** 2) + (i % 37 === 0 ? 140 : 0);
    // Order 7's total regressed in the new build: 10 -> 12.
    add(
      { id: `p${++n}`, path: `/orders/${orderId}`, body: order(10, 0), at },
      { body: order(orderId === 7 ? 12 : 10, 5), latencyMs: slow, at: at + 3 },
    );
    if (i % 4 === 0) {
      const list = {
        items: [{ id: uuid(i), name: 'widget' }],
        count: 1,
        generatedAt: Math.floor((T0 + at) / 1000),
      };
      add(
        { id: `p${++n}`, path: '/orders', query: [['limit', '1']], body: list, at: at + 40 },
        {
          body: { ...list, items: [{ id: uuid(i + 1000), name: 'widget' }], generatedAt: 1_900_000_000 },
          latencyMs: slow * 1.5,
          at: at + 42,
        },
      );
    }
    if (i % 10 === 0) {
      const note = i === 10 ? `${XSS_SCRIPT} & ${XSS_IMG}` : 'deliver to back door';
      add(
        {
          id: `p${++n}`,
          method: 'POST',
          path: '/orders',
          requestBody: { sku: 'A-1', note },
          status: 201,
          body: { id: uuid(5000 + i), note, status: 'created' },
          at: at + 80,
        },
        {
          status: i === 30 ? 500 : 201,
          body: {
            id: uuid(9000 + i),
            note: i === 10 ? `${note}!` : note,
            status: i === 30 ? 'failed' : 'created',
          },
          latencyMs: slow * 2.4,
          at: at + 81,
        },
      );
    }
    if (i % 30 === 5) {
      add(
        {
          id: `p${++n}`,
          path: `/users/${40 + i}/profile`,
          body: `<html><body><h1>Profile ${40 + i}</h1></body></html>`,
          at: at + 100,
        },
        i === 35
          ? { error: 'timeout', latencyMs: 10_000, at: at + 100 }
          : { body: `<html><body><h1>Profile ${40 + i}</h1></body></html>`, latencyMs: slow, at: at + 101 },
      );
    }
  }
  return {
    recorded: stream(recorded),
    observed: stream(seen),
    assertions: defaultAssertions(),
    goals: Goals.parse({ successRate: 99, assertionPassRate: 95, p95Ms: 80, p99Ms: 200 }),
    generator: undefined,
    responder: {
      match: 412,
      noMatch: 3,
      passthrough: 1,
      misses: [
        {
          status: 'NO_MATCH',
          method: 'GET',
          url: 'http://payments.local/v1/charges?id=ch_999',
          signature: 'GET payments.local /v1/charges',
          nearest: ['GET payments.local /v1/charges?id=ch_123'],
          at: new Date(T0 + 3_600_400).toISOString(),
        },
        {
          status: 'NO_MATCH',
          method: 'POST',
          url: `http://inventory.local/reserve?q=${encodeURIComponent(XSS_SCRIPT)}`,
          signature: 'POST inventory.local /reserve',
          at: new Date(T0 + 3_601_200).toISOString(),
        },
        {
          status: 'PASSTHROUGH',
          method: 'GET',
          url: 'https://geo.example.com/lookup',
          signature: 'GET geo.example.com /lookup',
          at: new Date(T0 + 3_602_000).toISOString(),
        },
      ],
      missesDropped: 0,
    },
    meta: meta({
      startedAt: new Date(T0 + 3_600_000).toISOString(),
      endedAt: new Date(T0 + 3_636_000).toISOString(),
      workflowId: 'replay-rp-test',
    }),
    logs: [
      {
        name: 'generator',
        lines: [
          '{"level":30,"msg":"generator started","connections":10}',
          `{"level":40,"msg":"slow response","url":"/users/75/profile ${XSS_IMG}"}`,
          '{"level":30,"msg":"generator finished","requests":400}',
        ],
      },
      {
        name: 'responder',
        lines: [
          '{"level":30,"msg":"responder ready","signatures":415}',
          '{"level":40,"msg":"no match","url":"http://payments.local/v1/charges?id=ch_999"}',
        ],
      },
    ],
    now: new Date(T0 + 3_600_000),
  };
}
