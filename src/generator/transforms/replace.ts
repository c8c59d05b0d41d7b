/** `replace`: every occurrence of a recorded token, in path, query, header values and body. */
import type { Transform } from '../../config/replay.js';
import type { DraftRequest } from './draft.js';
import { mapStatic } from './text.js';
import { resolveRefs, type ValueSources } from './vars.js';

type ReplaceTransform = Extract<Transform, { type: 'replace' }>;

export function replaceBytes(buf: Buffer, find: Buffer, by: Buffer): Buffer {
  let at = buf.indexOf(find);
  if (at < 0) return buf;
  const pieces: Buffer[] = [];
  let from = 0;
  for (; at >= 0; at = buf.indexOf(find, from)) {
    pieces.push(buf.subarray(from, at), by);
    from = at + find.length;
  }
  pieces.push(buf.subarray(from));
  return Buffer.concat(pieces);
}

export function compileReplace(spec: ReplaceTransform, sources: ValueSources, field: string) {
  const find = spec.find;
  const by = resolveRefs(spec.with, sources, `${field}.with`);
  const findBytes = Buffer.from(find);
  const byBytes = Buffer.from(by);
  // split/join: a plain string replacement with no `$&` pattern surprises.
  const swap = (s: string) => (s.includes(find) ? s.split(find).join(by) : s);
  return (draft: DraftRequest): void => {
    draft.path = mapStatic(draft.path, swap);
    draft.query = draft.query.map(([k, v]) => [mapStatic(k, swap), mapStatic(v, swap)]);
    draft.headers = draft.headers.map(([n, v]) => [n, mapStatic(v, swap)]);
    draft.body = Buffer.isBuffer(draft.body)
      ? replaceBytes(draft.body, findBytes, byBytes)
      : mapStatic(draft.body, swap);
  };
}
