/**
 * `host`: the Host header names this host[:port] instead of the target's. The connection
 * still goes to the replay target; this is for targets that route by virtual host.
 */
import type { Transform } from '../../config/replay.js';
import type { DraftRequest } from './draft.js';
import { resolveRefs, type ValueSources } from './vars.js';

type HostTransform = Extract<Transform, { type: 'host' }>;

export function compileHost(spec: HostTransform, sources: ValueSources, field: string) {
  const host = resolveRefs(spec.value, sources, `${field}.value`);
  return (draft: DraftRequest): void => {
    draft.host = host;
  };
}
