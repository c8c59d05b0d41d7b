import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  compareBody,
  compareHeaders,
  compareJson,
  compareStatus,
  headerValue,
  type CompareRules,
  type ExpectedBody,
} from '../../src/analyzer/compare.js';
import { covers, parsePatterns } from '../../src/analyzer/jsonpath.js';
import { encodeBody } from '../../src/model/body.js';

const ignoring = (...paths: string[]): CompareRules => {
  const patterns = parsePatterns(paths);
  return { ignored: (s) => patterns.some((p) => covers(p, s)), noise: () => undefined };
};

const real = (c: { diffs: { noise: boolean }[] }) => c.diffs.filter((d) => !d.noise);

describe('compareJson', () => {
  test('equal documents: every leaf matches', () => {
    const doc = { a: 1, b: { c: 'x', d: [1, 2] }, e: null, f: {} };
    const c = compareJson(doc, structuredClone(doc));
    assert.deepEqual(c.diffs, []);
    assert.equal(c.matched, 6);
    assert.equal(c.compared, 6);
  });

  test('reports changed, missing and added fields with their paths and values', () => {
    const c = compareJson(
      { total: 10, name: 'a', items: [{ id: 1 }, { id: 2 }] },
      { total: 12, items: [{ id: 1 }], extra: true },
    );
    assert.deepEqual(
      c.diffs.map((d) => [d.kind, d.path, d.expected, d.actual]),
      [
        ['changed', '$.total', '10', '12'],
        ['missing', '$.name', '"a"', undefined],
        ['missing', '$.items[1]', '{"id":2}', undefined],
        ['added', '$.extra', undefined, 'true'],
      ],
    );
    assert.equal(c.matched, 1);
    assert.equal(c.compared, 5);
  });

  test('type changes are changes, not descents', () => {
    const c = compareJson({ a: { b: 1 } }, { a: [1] });
    assert.deepEqual(
      c.diffs.map((d) => [d.kind, d.path]),
      [['changed', '$.a']],
    );
  });

  test('ignore paths prune fields, with [*] wildcards and .. descent', () => {
    const expected = {
      createdAt: 'x',
      items: [
        { id: 1, qty: 1 },
        { id: 2, qty: 2 },
      ],
      meta: { v: 1, trace: 'a' },
    };
    const actual = {
      createdAt: 'y',
      items: [
        { id: 9, qty: 1 },
        { id: 8, qty: 3 },
      ],
      meta: { v: 1, trace: 'b' },
    };
    const c = compareJson(expected, actual, ignoring('$.createdAt', '$.items[*].id', '$..trace'));
    assert.deepEqual(
      c.diffs.map((d) => d.path),
      ['$.items[1].qty'],
    );
    assert.equal(c.compared, 3, 'ignored fields are not counted');
  });

  test('an index in an ignore path ignores that element only', () => {
    const c = compareJson([{ id: 1 }, { id: 2 }], [{ id: 5 }, { id: 6 }], ignoring('$[0]'));
    assert.deepEqual(
      c.diffs.map((d) => d.path),
      ['$[1].id'],
    );
  });

  test('long values are cut in the preview', () => {
    const c = compareJson({ s: 'x'.repeat(500) }, { s: 'y' });
    assert.ok(c.diffs[0].expected!.length <= 201);
    assert.ok(c.diffs[0].expected!.endsWith('…'));
  });
});

describe('compareHeaders', () => {
  test('compares the asserted headers case-insensitively; others are not looked at', () => {
    const expected = new Map([
      ['content-type', 'application/json'],
      ['x-version', '1'],
    ]);
    const c = compareHeaders(
      expected,
      [
        ['Content-Type', 'application/json'],
        ['X-Version', '2'],
        ['X-Other', 'z'],
      ],
      ['content-type', 'x-version', 'x-absent'],
    );
    assert.deepEqual(
      c.diffs.map((d) => [d.kind, d.path, d.expected, d.actual]),
      [['header', 'header:x-version', '1', '2']],
    );
    assert.equal(c.matched, 2, 'absent on both sides counts as equal');
  });

  test('a header missing from the replay is a difference', () => {
    const c = compareHeaders(new Map([['content-type', 'text/plain']]), [], ['content-type']);
    assert.equal(c.diffs[0].actual, undefined);
    assert.equal(c.diffs[0].expected, 'text/plain');
  });

  test('set-cookie is compared without its expiry', () => {
    assert.equal(
      headerValue(
        [['Set-Cookie', 'sid=abc; Expires=Wed, 21 Oct 2015 07:28:00 GMT; Max-Age=3600; Path=/']],
        'set-cookie',
      ),
      'sid=abc; Path=/',
    );
  });
});

describe('compareStatus', () => {
  test('equal status matches; a different one or none is a status difference', () => {
    assert.equal(compareStatus(200, 200).matched, 1);
    assert.deepEqual(compareStatus(200, 500).diffs[0], {
      path: 'status',
      kind: 'status',
      noise: false,
      expected: '200',
      actual: '500',
    });
    assert.equal(compareStatus(200, null).diffs[0].actual, undefined);
  });
});

describe('compareBody', () => {
  const hashOf = (text: string, truncated = false): ExpectedBody => ({
    kind: 'bytes',
    sha256: createHash('sha256').update(text).digest('hex'),
    length: Buffer.byteLength(text),
    truncated,
    preview: text.slice(0, 200),
  });

  test('non-JSON bodies are compared by sha256', () => {
    assert.equal(real(compareBody(hashOf('<h1>hi</h1>'), encodeBody(Buffer.from('<h1>hi</h1>')))).length, 0);
    const c = compareBody(hashOf('<h1>hi</h1>'), encodeBody(Buffer.from('<h1>bye</h1>')));
    assert.deepEqual(
      c.diffs.map((d) => [d.kind, d.path, d.expected, d.actual]),
      [['changed', '$', '<h1>hi</h1>', '<h1>bye</h1>']],
    );
  });

  test('binary bodies preview as size and hash, not as mojibake', () => {
    const bytes = Buffer.from([0, 1, 2, 255, 254]);
    const c = compareBody(hashOf('x'), encodeBody(bytes));
    assert.match(c.diffs[0].actual!, /^<5 bytes, sha256 [0-9a-f]{12}>$/);
  });

  test('a truncated recording is compared on the bytes it kept', () => {
    const c = compareBody(hashOf('abcdef', true), encodeBody(Buffer.from('abcdefXYZ')));
    assert.equal(real(c).length, 0);
  });

  test('JSON bodies are compared key by key', () => {
    const c = compareBody({ kind: 'json', text: '{"a":1,"b":2}' }, encodeBody(Buffer.from('{"b":3,"a":1}')));
    assert.deepEqual(
      c.diffs.map((d) => d.path),
      ['$.b'],
    );
  });

  test('a JSON recording answered with something unparsable is one difference at $', () => {
    const c = compareBody({ kind: 'json', text: '{"a":1}' }, encodeBody(Buffer.from('<html>oops</html>')));
    assert.deepEqual(
      c.diffs.map((d) => [d.kind, d.path, d.actual]),
      [['changed', '$', '<html>oops</html>']],
    );
  });

  test('empty against non-empty is missing or added', () => {
    assert.equal(compareBody({ kind: 'none' }, encodeBody(Buffer.from('x'))).diffs[0].kind, 'added');
    assert.equal(compareBody({ kind: 'json', text: '{}' }, undefined).diffs[0].kind, 'missing');
    assert.equal(compareBody({ kind: 'none' }, undefined).matched, 1);
  });
});
