/**
 * What a set of traffic parts holds (counts, endpoints, capture window), added up part by part:
 * a forwarder replica sums its segments, and the seal sums the replicas into one manifest.
 */
import { z } from 'zod';
import { EndpointCount, type SnapshotManifest } from '../model/traffic.js';
import { EndpointCounter } from './endpoints.js';
import { capturedBefore } from './tally.js';

const count = z.number().int().nonnegative();

export const PartsSummary = z.object({
  counts: z.object({
    pairs: count,
    inbound: count,
    outbound: count,
    bytes: count,
    truncatedBodies: count,
    unscannedBodies: count,
  }),
  endpoints: z.array(EndpointCount),
  otherEndpoints: count,
  /** First and last capture time; absent while no pair was stored. */
  window: z.object({ start: z.string(), end: z.string() }).optional(),
});
export type PartsSummary = z.infer<typeof PartsSummary>;

export const emptySummary = (): PartsSummary => ({
  counts: { pairs: 0, inbound: 0, outbound: 0, bytes: 0, truncatedBodies: 0, unscannedBodies: 0 },
  endpoints: [],
  otherEndpoints: 0,
});

/** The summary of a sealed part's manifest (its window only when it holds pairs). */
export function summaryOf(
  m: Pick<SnapshotManifest, 'counts' | 'endpoints' | 'otherEndpoints' | 'window'>,
): PartsSummary {
  const { pairs, inbound, outbound, bytes, truncatedBodies, unscannedBodies } = m.counts;
  return {
    counts: { pairs, inbound, outbound, bytes, truncatedBodies, unscannedBodies },
    endpoints: m.endpoints,
    otherEndpoints: m.otherEndpoints,
    ...(pairs > 0 ? { window: m.window } : {}),
  };
}

/** `a` and `b` together: counts summed, endpoints merged (bounded as a manifest's), windows joined. */
export function addSummaries(a: PartsSummary, b: PartsSummary): PartsSummary {
  const counts = { ...a.counts };
  for (const k of Object.keys(counts) as (keyof typeof counts)[]) counts[k] += b.counts[k];
  const endpoints = new EndpointCounter();
  for (const r of [...a.endpoints, ...b.endpoints]) endpoints.addRow(r);
  endpoints.addOther(a.otherEndpoints + b.otherEndpoints);
  const window =
    a.window && b.window
      ? {
          start: capturedBefore(b.window.start, a.window.start) ? b.window.start : a.window.start,
          end: capturedBefore(a.window.end, b.window.end) ? b.window.end : a.window.end,
        }
      : (a.window ?? b.window);
  return { counts, ...endpoints.summary(), ...(window ? { window } : {}) };
}
