/**
 * Pairs the sidecars dropped (their buffer was full), from the cumulative
 * `x-reprise-sidecar-dropped` header of each batch. One sidecar is one (service, source
 * address); its counter only grows, so the max seen is its total. A recording counts what
 * grew after it opened.
 */

interface Source {
  service: string;
  max: number;
}

export class SidecarDrops {
  private readonly sources = new Map<string, Source>();

  report(service: string, address: string, cumulative: number): void {
    const key = `${service}\u0000${address}`;
    const s = this.sources.get(key);
    if (!s) this.sources.set(key, { service, max: cumulative });
    else if (cumulative > s.max) s.max = cumulative;
  }

  /** The counters now, to subtract later: drops from before a recording opened are not its own. */
  baseline(): Map<string, number> {
    return new Map([...this.sources].map(([k, s]) => [k, s.max]));
  }

  /** Drops since `baseline` by the sidecars of the services `routes` accepts. */
  since(baseline: Map<string, number>, routes: (service: string) => boolean): number {
    let n = 0;
    for (const [k, s] of this.sources)
      if (routes(s.service)) n += Math.max(0, s.max - (baseline.get(k) ?? 0));
    return n;
  }

  total(): number {
    let n = 0;
    for (const s of this.sources.values()) n += s.max;
    return n;
  }
}
