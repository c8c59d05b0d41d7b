/**
 * Many generators, one load: how `load.replicas` splits a replay's load between its generators.
 * Pure (the workflow imports it). Each replica gets a shard of the recording (request k of a
 * pass goes to replica k mod N, see src/generator/shard.ts), an equal part of a fixed rate and
 * of the connections, and the same duration or passes, so together they send what one
 * generator would have sent: every recorded request exactly once per pass.
 */
import type { LoadConfig } from './replay.js';

/** Replica `index` (0-based) of `count`. */
export interface Shard {
  index: number;
  count: number;
}

/** `2/4` (1-based, as flags and messages show it) for replica index 1 of 4. */
export function shardText(shard: Shard): string {
  return `${shard.index + 1}/${shard.count}`;
}

/** Parses `I/N` (1-based); undefined when it is not one. */
export function parseShard(text: string): Shard | undefined {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!m) return undefined;
  const [i, n] = [Number(m[1]), Number(m[2])];
  return i >= 1 && i <= n ? { index: i - 1, count: n } : undefined;
}

/** The load one replica sends: its part of the rate and of the connections (at least one). */
export function replicaLoad(load: LoadConfig, shard: Shard): LoadConfig {
  const { count, index } = shard;
  const connections = Math.max(
    1,
    Math.floor(load.connections / count) + (index < load.connections % count ? 1 : 0),
  );
  return {
    ...load,
    replicas: 1,
    connections,
    ...(load.rate !== undefined ? { rate: load.rate / count } : {}),
  };
}
