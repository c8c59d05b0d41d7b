/**
 * JSON paths as the analyzer writes and matches them. A concrete path names one value
 * (`$.items[0].id`); a pattern may use `[*]` (any index), `.*` (any key) and `..` (any depth):
 * `$.items[*].id`, `$..createdAt`. A pattern covers the values at the path and everything
 * beneath it, so ignoring `$.meta` ignores the whole object.
 */

/** One step into a JSON value: an object key or an array index. */
export type Segment = string | number;

export type PatternStep =
  | { kind: 'key'; key: string }
  | { kind: 'index'; index: number }
  | { kind: 'anyKey' }
  | { kind: 'anyIndex' }
  | { kind: 'descend' };

export type PathPattern = readonly PatternStep[];

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

function formatKey(key: string): string {
  return IDENT.test(key) ? `.${key}` : `['${key.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}']`;
}

/** `$.a[0]['odd key']`; with `wildcardIndices` every index becomes `[*]` (the form noise is kept in). */
export function formatPath(segments: readonly Segment[], wildcardIndices = false): string {
  let out = '$';
  for (const s of segments) {
    if (typeof s === 'number') out += wildcardIndices ? '[*]' : `[${s}]`;
    else out += formatKey(s);
  }
  return out;
}

export function normalisePath(segments: readonly Segment[]): string {
  return formatPath(segments, true);
}

/** The normalised paths of `segments` and of each of its ancestors, root (`$`) first. */
export function normalisedPrefixes(segments: readonly Segment[]): string[] {
  const out = ['$'];
  let path = '$';
  for (const s of segments) {
    path += typeof s === 'number' ? '[*]' : formatKey(s);
    out.push(path);
  }
  return out;
}

/**
 * Parses `$.a.b`, `$.items[*].id`, `$..id`, `$['a b']`, `$["a"]`, `$.*`. A path without the
 * leading `$` is read as starting at the root (`a.b` = `$.a.b`). Throws on malformed input.
 */
export function parsePattern(text: string): PathPattern {
  let src = text.trim();
  if (!src.startsWith('$')) src = `$${src.startsWith('[') ? '' : '.'}${src}`;
  const steps: PatternStep[] = [];
  let i = 1;
  const fail = (why: string): never => {
    throw new Error(`invalid JSON path "${text}": ${why} at offset ${i}`);
  };
  while (i < src.length) {
    if (src.startsWith('..', i)) {
      steps.push({ kind: 'descend' });
      i += 1; // the second dot is read as the start of the next key
      continue;
    }
    const c = src[i];
    if (c === '.') {
      const m = /^(\*|[^.[\]]+)/.exec(src.slice(i + 1));
      if (!m) fail('expected a key after "."');
      steps.push(m![1] === '*' ? { kind: 'anyKey' } : { kind: 'key', key: m![1] });
      i += 1 + m![1].length;
    } else if (c === '[') {
      const rest = src.slice(i);
      const quoted = /^\[\s*(['"])((?:\\.|(?!\1).)*)\1\s*\]/.exec(rest);
      const plain = /^\[\s*(\*|\d+)\s*\]/.exec(rest);
      if (quoted) {
        steps.push({ kind: 'key', key: quoted[2].replace(/\\(.)/g, '$1') });
        i += quoted[0].length;
      } else if (plain) {
        steps.push(plain[1] === '*' ? { kind: 'anyIndex' } : { kind: 'index', index: Number(plain[1]) });
        i += plain[0].length;
      } else fail("expected [n], [*] or ['key']");
    } else fail(`unexpected "${c}"`);
  }
  if (steps.length > 0 && steps[steps.length - 1].kind === 'descend') fail('".." must be followed by a key');
  return steps;
}

function stepMatches(step: PatternStep, seg: Segment): boolean {
  switch (step.kind) {
    case 'key':
      return seg === step.key;
    case 'index':
      return seg === step.index;
    case 'anyKey':
      return typeof seg === 'string';
    case 'anyIndex':
      return typeof seg === 'number';
    case 'descend':
      return false;
  }
}

function coversFrom(p: PathPattern, pi: number, s: readonly Segment[], si: number): boolean {
  if (pi === p.length) return true;
  const step = p[pi];
  if (step.kind === 'descend') {
    for (let k = si; k <= s.length; k++) if (coversFrom(p, pi + 1, s, k)) return true;
    return false;
  }
  return si < s.length && stepMatches(step, s[si]) && coversFrom(p, pi + 1, s, si + 1);
}

/** True when `segments` is at or beneath the path the pattern names. */
export function covers(pattern: PathPattern, segments: readonly Segment[]): boolean {
  return coversFrom(pattern, 0, segments, 0);
}

/** Parses a list of patterns, naming the one that is malformed. */
export function parsePatterns(texts: readonly string[]): PathPattern[] {
  return texts.map(parsePattern);
}
