/** Per-endpoint pair counts for the manifest, in bounded memory. */
import { MAX_ENDPOINTS, type EndpointCount, type RRPair } from '../model/traffic.js';

const NUMERIC = /^\d+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Long hex ids (Mongo ObjectIds, hashes) with at least one digit, so words like `deadbeefcafe` stay. */
const HEX_ID = /^(?=.*\d)[0-9a-f]{16,}$/i;

const isDigit = (c: number) => c >= 48 && c <= 57;

/** Whether one path segment is an id; the regexes only see segments that could be one. */
function isIdSegment(seg: string): boolean {
  const n = seg.length;
  if (n === 0) return false;
  if (isDigit(seg.charCodeAt(0)) && NUMERIC.test(seg)) return true;
  return (n === 36 && UUID.test(seg)) || (n >= 16 && HEX_ID.test(seg));
}

/** The last path normalised and its result: pairs in a row mostly share their path. */
let lastPath = '';
let lastNormalised = '';

/** `/orders/17/items/5f0c...` -> `/orders/{id}/items/{id}`: ids vary, the endpoint does not. */
export function normaliseEndpointPath(path: string): string {
  if (path === lastPath) return lastNormalised;
  lastNormalised = splitNormalise(path);
  lastPath = path;
  return lastNormalised;
}

function splitNormalise(path: string): string {
  const segments = path.split('/');
  let changed = false;
  for (let i = 0; i < segments.length; i++) {
    if (isIdSegment(segments[i])) {
      segments[i] = '{id}';
      changed = true;
    }
  }
  return changed ? segments.join('/') : path;
}

/**
 * Counts pairs per direction+method+host+normalised path. Tracks up to `4 * max` distinct
 * endpoints (so a frequent endpoint first seen late still ranks), reports the `max` most
 * frequent and sums every other pair into `other`.
 */
export class EndpointCounter {
  private readonly counts = new Map<string, EndpointCount>();
  private untracked = 0;

  constructor(
    private readonly max = MAX_ENDPOINTS,
    private readonly tracked = max * 4,
  ) {}

  add(pair: RRPair): void {
    const { method, host, path } = pair.request;
    this.addRow({ direction: pair.direction, method, host, path: normaliseEndpointPath(path), count: 1 });
  }

  /** Adds a counted row (one from another summary: merging the writers of one snapshot). */
  addRow(r: EndpointCount): void {
    const key = `${r.direction} ${r.method} ${r.host} ${r.path}`;
    const row = this.counts.get(key);
    if (row) row.count += r.count;
    else if (this.counts.size < this.tracked) this.counts.set(key, { ...r });
    else this.untracked += r.count;
  }

  /** Pairs counted elsewhere without their endpoint (another summary's `otherEndpoints`). */
  addOther(count: number): void {
    this.untracked += count;
  }

  /** Every tracked row and the untracked count, unranked: for merging into another counter. */
  rows(): { endpoints: EndpointCount[]; otherEndpoints: number } {
    return { endpoints: [...this.counts.values()], otherEndpoints: this.untracked };
  }

  summary(): { endpoints: EndpointCount[]; otherEndpoints: number } {
    const rows = [...this.counts.values()].sort(
      (a, b) =>
        b.count - a.count ||
        a.path.localeCompare(b.path) ||
        a.method.localeCompare(b.method) ||
        a.host.localeCompare(b.host) ||
        a.direction.localeCompare(b.direction),
    );
    const kept = rows.slice(0, this.max).map((r) => ({ ...r }));
    const dropped = rows.slice(this.max).reduce((n, r) => n + r.count, 0);
    return { endpoints: kept, otherEndpoints: this.untracked + dropped };
  }
}
