/** What a snapshot writer counts as pairs go by, and the manifest built from it at seal time. */
import {
  DropCounts,
  FORMAT_VERSION,
  SnapshotManifest,
  UNSCANNED_TAG,
  type EndpointCount,
  type RRPair,
} from '../model/traffic.js';
import type { NewSnapshot, WriterStats } from './types.js';
import { EndpointCounter } from './endpoints.js';

/**
 * What some pairs add to a tally, without the pairs: how lines encoded elsewhere (a forwarder's
 * ingest thread) are counted by the writer that stores them.
 */
export interface TallySummary {
  counts: WriterStats;
  endpoints: EndpointCount[];
  otherEndpoints: number;
  /** The earliest and latest `startedAt` among the pairs (absent when none could be read). */
  first?: string;
  last?: string;
}

/** `2024-01-01T00:00:00.000Z`: fixed width, so text order is time order. */
const ISO_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

interface Instant {
  iso: string;
  /** Fixed-width UTC: compares as text, without Date.parse. */
  canonical: boolean;
}

const earlier = (a: Instant, b: Instant): boolean =>
  a.canonical && b.canonical ? a.iso < b.iso : Date.parse(a.iso) < Date.parse(b.iso);

/** True when `a` was captured before `b` (capture order of two `startedAt` values). */
export function capturedBefore(a: string, b: string): boolean {
  return earlier({ iso: a, canonical: ISO_UTC.test(a) }, { iso: b, canonical: ISO_UTC.test(b) });
}

export class SnapshotTally {
  private readonly counts: WriterStats = {
    pairs: 0,
    inbound: 0,
    outbound: 0,
    bytes: 0,
    truncatedBodies: 0,
    unscannedBodies: 0,
  };
  private readonly endpoints = new EndpointCounter();
  private first?: Instant;
  private last?: Instant;
  readonly createdAt = new Date().toISOString();

  /** `bytes`: the pair's NDJSON line, newline included. */
  add(pair: RRPair, bytes: number): void {
    const c = this.counts;
    c.pairs++;
    if (pair.direction === 'inbound') c.inbound++;
    else c.outbound++;
    c.bytes += bytes;
    if (pair.request.body?.truncated) c.truncatedBodies++;
    if (pair.response?.body?.truncated) c.truncatedBodies++;
    const unscanned = pair.tags?.[UNSCANNED_TAG];
    if (unscanned) c.unscannedBodies += unscanned.split(',').length;
    this.endpoints.add(pair);
    this.noteTime(pair.startedAt);
  }

  stats(): WriterStats {
    return { ...this.counts };
  }

  summary(): TallySummary {
    const { endpoints, otherEndpoints } = this.endpoints.rows();
    return { counts: this.stats(), endpoints, otherEndpoints, first: this.first?.iso, last: this.last?.iso };
  }

  /** Adds what summary() of another tally counted, as if its pairs had been added here. */
  merge(s: TallySummary): void {
    const c = this.counts;
    for (const k of Object.keys(c) as (keyof WriterStats)[]) c[k] += s.counts[k];
    for (const row of s.endpoints) this.endpoints.addRow(row);
    this.endpoints.addOther(s.otherEndpoints);
    if (s.first !== undefined) this.noteTime(s.first);
    if (s.last !== undefined) this.noteTime(s.last);
  }

  /** The manifest of the snapshot these pairs make; `parts` only when not the single default file. */
  manifest(id: string, spec: NewSnapshot, dropped: Partial<DropCounts>, parts?: string[]): SnapshotManifest {
    const { endpoints, otherEndpoints } = this.endpoints.summary();
    return SnapshotManifest.parse({
      formatVersion: FORMAT_VERSION,
      id,
      service: spec.service,
      source: spec.source,
      createdAt: this.createdAt,
      sealedAt: new Date().toISOString(),
      window: { start: this.first?.iso ?? this.createdAt, end: this.last?.iso ?? this.createdAt },
      counts: { ...this.counts, dropped: DropCounts.parse(dropped) },
      endpoints,
      otherEndpoints,
      // Left out when absent, so the manifest seal() returns equals the one read back.
      ...(spec.filters !== undefined ? { filters: spec.filters } : {}),
      ...(spec.dlp !== undefined ? { dlp: spec.dlp } : {}),
      meta: { ...spec.meta },
      ...(parts ? { parts } : {}),
    });
  }

  /** The capture window. Canonical UTC ISO strings (what sidecars write) order as text. */
  private noteTime(iso: string): void {
    const canonical = ISO_UTC.test(iso);
    if (!canonical && Number.isNaN(Date.parse(iso))) return;
    const t = { iso, canonical };
    if (!this.first || earlier(t, this.first)) this.first = t;
    if (!this.last || earlier(this.last, t)) this.last = t;
  }
}
