import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { covers, formatPath, normalisePath, parsePattern } from '../../src/analyzer/jsonpath.js';

describe('JSON paths', () => {
  test('formats keys, indices and odd keys, and normalises indices to [*]', () => {
    const segs = ['items', 3, 'id', 'a b', "it's"];
    assert.equal(formatPath(segs), "$.items[3].id['a b']['it\\'s']");
    assert.equal(normalisePath(segs), "$.items[*].id['a b']['it\\'s']");
  });

  test('a formatted path parses back to a pattern that covers it', () => {
    const segs = ['a-b', 0, 'x y', 2, 'z'];
    assert.ok(covers(parsePattern(formatPath(segs)), segs));
    assert.ok(covers(parsePattern(normalisePath(segs)), segs));
  });

  test('a pattern covers its path and everything beneath, nothing beside', () => {
    const p = parsePattern('$.meta');
    assert.ok(covers(p, ['meta']));
    assert.ok(covers(p, ['meta', 'version']));
    assert.ok(!covers(p, ['metadata']));
    assert.ok(!covers(p, []));
  });

  test('[*] matches any index, .* any key, .. any depth', () => {
    assert.ok(covers(parsePattern('$.items[*].id'), ['items', 7, 'id']));
    assert.ok(!covers(parsePattern('$.items[*].id'), ['items', 'x', 'id']));
    assert.ok(covers(parsePattern('$.*.id'), ['user', 'id']));
    assert.ok(covers(parsePattern('$..createdAt'), ['a', 0, 'b', 'createdAt']));
    assert.ok(covers(parsePattern('$..createdAt'), ['createdAt']));
    assert.ok(!covers(parsePattern('$..createdAt'), ['a', 'updatedAt']));
    assert.ok(covers(parsePattern('$.items[2]'), ['items', 2, 'x']));
    assert.ok(!covers(parsePattern('$.items[2]'), ['items', 3]));
  });

  test('a path without $ starts at the root; quoted keys work', () => {
    assert.ok(covers(parsePattern('a.b'), ['a', 'b']));
    assert.ok(covers(parsePattern('$[\'odd.key\']["x"]'), ['odd.key', 'x']));
  });

  test('malformed patterns fail with the path in the message', () => {
    assert.throws(() => parsePattern('$.a[x]'), /invalid JSON path "\$\.a\[x\]"/);
    assert.throws(() => parsePattern('$.a..'), /invalid JSON path/);
  });
});
