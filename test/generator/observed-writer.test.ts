import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { exchangeLine, ObservedWriter } from '../../src/generator/observed-writer.js';
import { ObservedExchange } from '../../src/model/replay.js';
import { observed, tempDir } from './helpers.js';

describe('observed writer', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  before(async () => {
    tmp = await tempDir();
  });
  after(async () => {
    await tmp.remove();
  });

  it('writes lines that parse as ObservedExchange, visible under the name only once closed', async () => {
    const file = path.join(tmp.dir, 'nested/dir/observed.ndjson.gz');
    const writer = await ObservedWriter.open(file);
    const head = `"pairId":"p1","request":{"method":"GET","url":"http://t/x"}`;
    writer.write(
      exchangeLine(head, 0, Date.parse('2024-01-01T00:00:00Z'), 1.23456, {
        response: {
          status: 200,
          headers: [['a', 'b']],
          body: { encoding: 'utf8', data: 'ok', size: 2, truncated: false },
        },
      }),
    );
    writer.write(exchangeLine(head, 1, Date.parse('2024-01-01T00:00:01Z'), 300, { error: 'timeout' }));
    assert.equal(existsSync(file), false);
    await writer.close();
    const lines = await observed(file);
    assert.equal(lines.length, 2);
    for (const l of lines) ObservedExchange.parse(l);
    assert.deepEqual(lines[0], {
      pairId: 'p1',
      request: { method: 'GET', url: 'http://t/x' },
      pass: 0,
      sentAt: '2024-01-01T00:00:00.000Z',
      latencyMs: 1.235,
      response: {
        status: 200,
        headers: [['a', 'b']],
        body: { encoding: 'utf8', data: 'ok', size: 2, truncated: false },
      },
    });
    assert.equal(lines[1].error, 'timeout');
  });

  it('reports congestion when lines come faster than gzip takes them, and calls back once drained', async () => {
    const writer = await ObservedWriter.open(path.join(tmp.dir, 'burst.ndjson.gz'));
    // Random text compresses badly and keeps gzip busy.
    const line = JSON.stringify({
      x: Array.from({ length: 2000 }, () => Math.random().toString(36)).join(''),
    });
    let n = 0;
    while (!writer.congested && n < 100_000) {
      writer.write(line);
      n++;
    }
    assert.equal(writer.congested, true, `congested after ${n} lines`);
    await new Promise<void>((resolve) => writer.whenDrained(resolve));
    assert.equal(writer.congested, false);
    await writer.close();
    assert.equal((await observed(path.join(tmp.dir, 'burst.ndjson.gz'))).length, n);
  });
});
