/**
 * The recorded signatures most like one that missed, for the 404 body and the miss list: a user
 * sees at once whether a query parameter, a body field or the host differs. Misses are the slow
 * path: the scan is linear in the recorded signatures of the same host (all of them for an
 * unknown host), so results are cached per missed key and the grouping is built on first use.
 */
import type { Signature } from './signature.js';

const CACHE_MAX = 1000;
const CAP = 9_999;

export class NearestSignatures {
  private byHost?: Map<string, Signature[]>;
  private all?: Signature[];
  private readonly cache = new Map<string, string[]>();

  constructor(
    private readonly recorded: () => Iterable<Signature>,
    private readonly limit = 3,
  ) {}

  find(missed: Signature): string[] {
    const cached = this.cache.get(missed.key);
    if (cached) return cached;
    this.group();
    const sameHost = this.byHost!.get(missed.host) ?? [];
    let best = top(missed, sameHost, this.limit);
    if (best.length < this.limit) best = top(missed, this.all!, this.limit);
    const keys = best.map((s) => s.key);
    if (this.cache.size >= CACHE_MAX) this.cache.clear();
    this.cache.set(missed.key, keys);
    return keys;
  }

  private group(): void {
    if (this.all) return;
    this.all = [...this.recorded()];
    this.byHost = new Map();
    for (const s of this.all) {
      const list = this.byHost.get(s.host);
      if (list) list.push(s);
      else this.byHost.set(s.host, [s]);
    }
  }
}

/**
 * Higher is more similar: same method and host, then same host, then same method; within a
 * tier, more leading path segments in common, a longer common prefix, a closer length.
 */
export function similarity(a: Signature, b: Signature): number {
  const tier = (a.host === b.host ? 2 : 0) + (a.method === b.method ? 1 : 0);
  const segments = Math.min(commonSegments(a.rest, b.rest), 99);
  const prefix = Math.min(commonPrefix(a.rest, b.rest), CAP);
  const closeness = CAP - Math.min(Math.abs(a.rest.length - b.rest.length), CAP);
  return ((tier * 100 + segments) * 10_000 + prefix) * 10_000 + closeness;
}

function top(missed: Signature, candidates: readonly Signature[], limit: number): Signature[] {
  const best: { s: Signature; score: number }[] = [];
  for (const s of candidates) {
    const score = similarity(missed, s);
    if (best.length === limit && score <= best[limit - 1].score) continue;
    let i = best.length;
    while (i > 0 && best[i - 1].score < score) i--;
    best.splice(i, 0, { s, score });
    if (best.length > limit) best.pop();
  }
  return best.map((b) => b.s);
}

function commonPrefix(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}

/** Leading `/`-separated segments equal in both paths (the query and body are not segments). */
function commonSegments(a: string, b: string): number {
  const pa = pathOf(a).split('/');
  const pb = pathOf(b).split('/');
  const n = Math.min(pa.length, pb.length);
  let i = 0;
  while (i < n && pa[i] === pb[i]) i++;
  return i;
}

const pathOf = (rest: string) => rest.split(/[? ]/, 1)[0];
