/** The fast pair check must agree with the RRPair schema: never accept what zod refuses. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validatePair } from '../../src/forwarder/validate.js';
import { RRPair } from '../../src/model/traffic.js';
import { describeZodIssues } from '../../src/base/issues.js';
import { jsonBody, makePair, textBody } from '../../tools/fixtures/pairs.js';

const viaZod = (data: unknown) => {
  const r = RRPair.safeParse(data);
  return r.success ? r.data : describeZodIssues(r.error.issues);
};

/** Every path to a value in `v` (objects and arrays), as key lists. */
function paths(v: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (typeof v !== 'object' || v === null) return [prefix];
  const entries = Array.isArray(v) ? v.map((x, i) => [i, x] as const) : Object.entries(v);
  return [prefix, ...entries.flatMap(([k, x]) => paths(x, [...prefix, k]))];
}

function mutated(base: object, path: (string | number)[], value: unknown, remove = false): unknown {
  const copy = structuredClone(base) as Record<string | number, unknown>;
  if (path.length === 0) return value;
  let o = copy;
  for (const k of path.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
  const last = path[path.length - 1];
  if (remove) delete o[last];
  else o[last] = value;
  return copy;
}

const WEIRD = [
  null,
  'x',
  '',
  0,
  -1,
  1.5,
  70000,
  1000,
  true,
  [],
  {},
  ['a'],
  ['a', 'b', 'c'],
  [1, 2],
  { extra: 1 },
];

describe('fast pair validation', () => {
  const bases = [
    makePair({ body: jsonBody({ a: 1 }), responseBody: textBody('x', { decodedFrom: 'gzip' }) }),
    { ...makePair({ noResponse: true }), error: { code: 'ECONNRESET', message: 'reset' }, tags: { k: 'v' } },
  ];

  it('agrees with zod on valid pairs and on every single-field mutation', () => {
    let cases = 0;
    for (const base of bases) {
      assert.deepEqual(validatePair(structuredClone(base)), viaZod(structuredClone(base)));
      for (const p of paths(base)) {
        for (const w of WEIRD) {
          assert.deepEqual(
            validatePair(mutated(base, p, w)),
            viaZod(mutated(base, p, w)),
            `${p.join('.')} = ${JSON.stringify(w)}`,
          );
          cases++;
        }
        if (p.length) {
          assert.deepEqual(
            validatePair(mutated(base, p, 0, true)),
            viaZod(mutated(base, p, 0, true)),
            `without ${p.join('.')}`,
          );
        }
      }
    }
    assert.ok(cases > 500);
  });

  it('fills the default tags and strips unknown fields like zod', () => {
    const { tags: _tags, ...noTags } = makePair();
    assert.deepEqual((validatePair(structuredClone(noTags)) as RRPair).tags, {});
    const extra = { ...makePair(), future: 1 };
    assert.equal('future' in (validatePair(extra) as object), false);
  });
});
