/**
 * The masked pair's JSON line made from the ingested one by replacing the few string values DLP
 * changed (usually a credential header), instead of serialising the whole pair again: the
 * replacement costs a few substring searches, JSON.stringify as much as JSON.parse did.
 *
 * It is only done where the replacement provably hits the value's own token; anything else
 * returns undefined and the caller serialises the masked pair. The proof, for a line of valid
 * JSON with no `\u` and no `\/` escape (then every string token is exactly JSON.stringify of its
 * value): an occurrence of E = JSON.stringify(value) that starts on a quote not preceded by a
 * backslash either is a whole string token, or spans the text between two tokens, which always
 * holds a `,` or a `:` and never a backslash. So when E holds a backslash, or the value holds
 * neither `,` nor `:`, every occurrence is a whole token; when there is exactly one, it is the
 * value's own (its token is one), and replacing it is exactly what serialising would write.
 */
import type { HeaderList, HttpRequest, HttpResponse, RRPair } from '../model/traffic.js';

type Edit = [before: string, after: string];

/** The line with `after`'s changes applied, or undefined when that cannot be done safely. */
export function patchLine(line: string, before: RRPair, after: RRPair): string | undefined {
  const edits: Edit[] = [];
  if (!sameExcept(before, after, ['request', 'response'])) return undefined;
  if (!messageEdits(before.request, after.request, edits)) return undefined;
  if (before.response !== after.response) {
    if (!before.response || !after.response || !messageEdits(before.response, after.response, edits))
      return undefined;
  }
  // Checked once the edits are known to be patchable: a changed body declines before any scan.
  if (line.includes('\\u') || line.includes('\\/')) return undefined;
  let out = line;
  for (const [from, to] of edits) {
    const token = JSON.stringify(from);
    const at = out.indexOf(token);
    if (at < 0 || out.indexOf(token, at + 1) >= 0 || out.charCodeAt(at - 1) === 92 /* \ */) return undefined;
    if (!token.includes('\\') && (from.includes(',') || from.includes(':'))) return undefined;
    out = out.slice(0, at) + JSON.stringify(to) + out.slice(at + token.length);
  }
  return out;
}

/** Every own field of `a` and `b` is the same value, except those in `allowed`. */
function sameExcept(a: object, b: object, allowed: string[]): boolean {
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  for (const k in y) if (x[k] !== y[k] && !allowed.includes(k)) return false;
  for (const k in x) if (!(k in y)) return false;
  return true;
}

/** The string edits between two versions of a message; false for any other kind of change. */
function messageEdits(a: HttpRequest | HttpResponse, b: HttpRequest | HttpResponse, edits: Edit[]): boolean {
  if (a === b) return true;
  // A body DLP changed also changes its size (and maybe content-length): serialise instead.
  if (!sameExcept(a, b, ['path', 'query', 'headers'])) return false;
  if ('path' in a && 'path' in b) {
    if (a.path !== b.path) edits.push([a.path, b.path]);
    if (!listEdits(a.query, b.query, edits)) return false;
  }
  return listEdits(a.headers, b.headers, edits);
}

/** `[name, value]` lists: only values may differ. */
function listEdits(a: HeaderList, b: HeaderList, edits: Edit[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[i]) continue;
    if (a[i][0] !== b[i][0]) return false;
    if (a[i][1] !== b[i][1]) edits.push([a[i][1], b[i][1]]);
  }
  return true;
}
