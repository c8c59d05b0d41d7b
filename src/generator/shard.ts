/**
 * One replica's share of the recording: of the requests a pass replays (the same filter the
 * plan uses), the k-th in capture order goes to replica k mod N. Every other pair (outbound,
 * filtered out) passes through, so each replica scans the same time window for its transforms.
 * Disjoint and complete: across N replicas each recorded request is sent once per pass.
 */
import type { Shard } from '../config/replicas.js';
import type { RRPair } from '../model/traffic.js';
import { replayableFilter, type PairSource } from './request-plan.js';

export function shardSource(
  open: PairSource,
  include: readonly string[] | undefined,
  shard: Shard,
): PairSource {
  if (shard.count <= 1) return open;
  const replayable = replayableFilter(include);
  return () => keepShare(open(), replayable, shard);
}

async function* keepShare(
  pairs: AsyncIterable<RRPair> | Iterable<RRPair>,
  replayable: (pair: RRPair, at: number) => boolean,
  { index, count }: Shard,
): AsyncGenerator<RRPair> {
  let k = 0;
  for await (const pair of pairs) {
    if (replayable(pair, Date.parse(pair.startedAt)) && k++ % count !== index) continue;
    yield pair;
  }
}
