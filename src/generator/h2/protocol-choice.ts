/**
 * Which protocol a recording replays on, decided from every request a pass replays (not the
 * first alone): HTTP/2 pairs, gRPC or not, replay together over HTTP/2 (h2-runner); HTTP/1.1
 * pairs over HTTP/1.1 (runner.ts). A recording whose replayed requests mix the two is refused,
 * naming both kinds: one run has one schedule (rate, recorded timing, ramp-up, duration) over
 * one set of `connections`, and sending a request on the other protocol would change what the
 * app sees. `load.include` narrowing the replay to one kind's paths makes it replayable.
 */
import type { RRPair } from '../../model/traffic.js';
import { GeneratorConfigError } from '../errors.js';
import { replayableFilter, type PairSource } from '../request-plan.js';

export type ReplayProtocol = 'http/1.1' | 'h2';

/** How many replayed requests were recorded on one protocol, and the first of them. */
export interface KindSeen {
  count: number;
  /** `METHOD /path` of the first one. */
  first: string | undefined;
}

const named = (pair: RRPair) => `${pair.request.method} ${pair.request.path}`;

export const protocolOf = (pair: RRPair): ReplayProtocol => (pair.protocol === 'h2' ? 'h2' : 'http/1.1');

/** The protocol of the first request a pass replays (HTTP/1.1 when there is none). */
export async function firstReplayed(
  open: PairSource,
  include: readonly string[] | undefined,
): Promise<{ protocol: ReplayProtocol; first: string | undefined }> {
  const replayable = replayableFilter(include);
  for await (const pair of open()) {
    if (replayable(pair, Date.parse(pair.startedAt)))
      return { protocol: protocolOf(pair), first: named(pair) };
  }
  return { protocol: 'http/1.1', first: undefined };
}

/** The error for a recording whose replayed requests mix HTTP/1.1 and HTTP/2. */
export function mixedProtocols(h2: KindSeen, http1: KindSeen): GeneratorConfigError {
  const count = (k: KindSeen) => (k.count > 0 ? `${k.count} ` : '');
  return new GeneratorConfigError(
    'pairs',
    `the recording mixes HTTP/1.1 and HTTP/2 inbound requests (${count(h2)}over HTTP/2, first ${h2.first}; ` +
      `${count(http1)}over HTTP/1.1, first ${http1.first}), and one replay speaks one protocol: ` +
      'narrow load.include to the paths of one kind, or record them apart',
  );
}

/**
 * Watches the HTTP/1.1 scan for HTTP/2 pairs it would replay: only an `h2` pair is looked at
 * further, so an HTTP/1.1 recording pays one comparison per pair.
 */
export class Http2Watch {
  readonly h2: KindSeen = { count: 0, first: undefined };
  private readonly replayable: ReturnType<typeof replayableFilter>;

  constructor(include: readonly string[] | undefined) {
    this.replayable = replayableFilter(include);
  }

  watching(open: PairSource): PairSource {
    return () => {
      const pairs = open();
      return Symbol.asyncIterator in pairs ? this.watchAsync(pairs) : this.watchSync(pairs);
    };
  }

  /** Throws when the scan met HTTP/2 requests among the HTTP/1.1 ones (`first` is the first of those). */
  refuseMix(first: string | undefined): void {
    if (this.h2.count > 0) throw mixedProtocols(this.h2, { count: 0, first });
  }

  private see(pair: RRPair): void {
    if (pair.protocol !== 'h2' || !this.replayable(pair, Date.parse(pair.startedAt))) return;
    this.h2.count++;
    this.h2.first ??= named(pair);
  }

  private *watchSync(pairs: Iterable<RRPair>): Iterable<RRPair> {
    for (const pair of pairs) {
      this.see(pair);
      yield pair;
    }
  }

  private async *watchAsync(pairs: AsyncIterable<RRPair>): AsyncIterable<RRPair> {
    for await (const pair of pairs) {
      this.see(pair);
      yield pair;
    }
  }
}
