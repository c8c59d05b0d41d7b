/**
 * Recordings for the responder and generator measures: small, distinct recorded pairs written
 * as a real snapshot (the workers read it like any other), and the same requests in the load
 * tools' own formats (a HAR for autocannon; GoReplay's .gor files: ./gor.ts).
 */
import { writeFile } from 'node:fs/promises';
import type { RRPair } from '../../src/model/traffic.js';
import { FsSnapshotStore } from '../../src/store/fs-store.js';
import { jsonBody, makePair, textBody } from '../../tools/fixtures/pairs.js';

const T0 = Date.parse('2024-03-10T12:00:00Z');

/** The dependency host the outbound recordings call; autocannon sends it as the Host header. */
export const DEPENDENCY_HOST = 'inventory.bench';

/** A recorded call `i` to the dependency, 1 ms after call `i - 1`; `fields` say what it was. */
function dependencyPair(i: number, fields: Parameters<typeof makePair>[0]): RRPair {
  return makePair({
    direction: 'outbound',
    service: 'bench',
    startedAt: new Date(T0 + i).toISOString(),
    durationMs: 1,
    host: DEPENDENCY_HOST,
    port: 80,
    ...fields,
  });
}

/** Outbound pair `i`: a distinct GET to the dependency with a small JSON answer. */
export function outboundPair(i: number): RRPair {
  return dependencyPair(i, {
    id: `out-${i}`,
    path: `/stock/SKU-${i}`,
    query: [['warehouse', 'eu-west-1']],
    responseBody: jsonBody({
      sku: `SKU-${i}`,
      available: 120 + (i % 30),
      reserved: 3,
      warehouse: 'eu-west-1',
    }),
  });
}

/** The request target of outbound pair `i` (path and query, as sent). */
export const outboundPath = (i: number) => `/stock/SKU-${i}?warehouse=eu-west-1`;

/** Where the recorded POSTs go: one endpoint, told apart by their JSON bodies. */
export const RESERVE_PATH = '/v1/reserve';

/** The JSON body of recorded POST `i`, as sent. */
export const reserveBody = (i: number) =>
  JSON.stringify({ sku: `SKU-${i}`, qty: 1 + (i % 5), warehouse: 'eu-west-1', customer: `c-${i % 97}` });

/** Outbound POST `i`: a JSON reservation the dependency answered with its own JSON. */
export function outboundPostPair(i: number): RRPair {
  return dependencyPair(i, {
    id: `post-${i}`,
    method: 'POST',
    path: RESERVE_PATH,
    headers: [['content-type', 'application/json']],
    body: textBody(reserveBody(i)),
    responseBody: jsonBody({ reservation: `r-${i}`, sku: `SKU-${i}`, ok: true }),
  });
}

/** Inbound pair `i`: a distinct GET to the app (what the generator replays); 1 ms apart. */
export function inboundPair(i: number): RRPair {
  return makePair({
    id: `in-${i}`,
    service: 'bench',
    startedAt: new Date(T0 + i).toISOString(),
    durationMs: 1,
    host: 'bench',
    port: 80,
    path: `/items/${i}`,
    query: [['page', String(i % 7)]],
    headers: [
      ['accept', 'application/json'],
      ['user-agent', 'bench'],
    ],
    noResponse: true,
  });
}

/** Writes pairs 0..count-1 as a sealed snapshot in the store at `home`; returns its id. */
export async function writeSnapshot(
  home: string,
  count: number,
  pairOf: (i: number) => RRPair,
): Promise<string> {
  const writer = await new FsSnapshotStore(home).createWriter({ service: 'bench', source: 'capture' });
  for (let i = 0; i < count; i++) await writer.append(pairOf(i));
  await writer.seal();
  return writer.id;
}

/** A HAR for autocannon's `--har`: GETs to `origin` with these targets and Host header. */
export async function writeHar(file: string, origin: string, host: string, targets: string[]): Promise<void> {
  const entries = targets.map((t) => ({
    request: { method: 'GET', url: `${origin}${t}`, headers: [{ name: 'host', value: host }] },
  }));
  await writeFile(file, JSON.stringify({ log: { version: '1.2', entries } }));
}

/** A HAR of JSON POSTs to `origin` + `path`, one entry per body, with this Host header. */
export async function writePostHar(
  file: string,
  origin: string,
  host: string,
  path: string,
  bodies: string[],
): Promise<void> {
  const entries = bodies.map((text) => ({
    request: {
      method: 'POST',
      url: `${origin}${path}`,
      headers: [
        { name: 'host', value: host },
        { name: 'content-type', value: 'application/json' },
      ],
      postData: { mimeType: 'application/json', text },
    },
  }));
  await writeFile(file, JSON.stringify({ log: { version: '1.2', entries } }));
}

/** Deterministic pseudo-random integers (mulberry32), so every run requests the same spread. */
export function seeded(seed: number): (below: number) => number {
  let a = seed >>> 0;
  return (below) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * below);
  };
}
