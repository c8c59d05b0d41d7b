/** `header`: set a request header (replacing every recorded value) or remove it. */
import type { Transform } from '../../config/replay.js';
import type { DraftRequest } from './draft.js';
import { resolveRefs, type ValueSources } from './vars.js';

type HeaderTransform = Extract<Transform, { type: 'header' }>;

export function compileHeader(spec: HeaderTransform, sources: ValueSources, field: string) {
  const lower = spec.name.toLowerCase();
  const value = spec.value === null ? null : resolveRefs(spec.value, sources, `${field}.value`);
  return (draft: DraftRequest): void => {
    if (lower === 'host') {
      if (value !== null) draft.host = value;
      return;
    }
    draft.headers = draft.headers.filter(([n]) => n.toLowerCase() !== lower);
    if (value !== null) draft.headers.push([spec.name, value]);
  };
}
