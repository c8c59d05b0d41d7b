import assert from 'node:assert/strict';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { runGenerator } from '../../src/generator/index.js';
import { buildPlan } from '../../src/generator/request-plan.js';
import { observed, pair, startTarget, tempDir } from './helpers.js';

const target = new URL('http://127.0.0.1:8080/base/');

async function wireOf(...args: Parameters<typeof pair>): Promise<string> {
  const plan = await buildPlan([pair(...args)], { target });
  return plan.requests[0].bytes!.toString('latin1');
}

describe('request plan', () => {
  it('builds the request line from path and encoded query under the target path, with the target as Host', async () => {
    const wire = await wireOf(0, {
      request: {
        path: '/a b/%2F',
        query: [
          ['q', 'x y&z'],
          ['empty', ''],
        ],
      },
    });
    assert.equal(
      wire,
      'GET /base/a%20b/%2F?q=x%20y%26z&empty= HTTP/1.1\r\nhost: 127.0.0.1:8080\r\nAccept: application/json\r\n\r\n',
    );
  });

  it('drops HTTP/2 pseudo-headers and hop-by-hop headers, sends bytes of a binary body exactly', async () => {
    const body = Buffer.from([0, 1, 2, 255, 13, 10]);
    const wire = await wireOf(0, {
      protocol: 'h2',
      request: {
        method: 'post',
        headers: [
          [':authority', 'orders.internal'],
          [':path', '/items/0'],
          ['te', 'trailers'],
          ['content-type', 'application/octet-stream'],
          ['x-multi', 'a\r\nInjected: yes'],
        ],
        body: { encoding: 'base64', data: body.toString('base64'), size: 6, truncated: false },
      },
    });
    const [head, sent] = [wire.slice(0, wire.indexOf('\r\n\r\n')), wire.slice(wire.indexOf('\r\n\r\n') + 4)];
    assert.equal(
      head,
      'POST /base/items/0 HTTP/1.1\r\nhost: 127.0.0.1:8080\r\ncontent-type: application/octet-stream\r\nx-multi: a Injected: yes\r\ncontent-length: 6',
    );
    assert.deepEqual(Buffer.from(sent, 'latin1'), body);
  });

  it('gives an empty POST a content-length of 0 and HEAD no body expectations', async () => {
    assert.match(await wireOf(0, { request: { method: 'POST' } }), /content-length: 0\r\n\r\n$/);
    const plan = await buildPlan([pair(0, { request: { method: 'HEAD' } })], { target });
    assert.equal(plan.requests[0].noBody, true);
  });

  it('skips outbound pairs and CONNECT tunnels, keeps recorded offsets from the first request', async () => {
    const plan = await buildPlan(
      [
        pair(0, { startedAt: '2024-03-10T12:00:01.000Z' }),
        pair(1, { startedAt: '2024-03-10T12:00:00.000Z', direction: 'outbound' }),
        pair(2, { startedAt: '2024-03-10T12:00:03.500Z' }),
        pair(3, { request: { method: 'CONNECT' } }),
      ],
      { target },
    );
    assert.deepEqual(
      plan.requests.map((r) => [r.pairId, r.offsetMs]),
      [
        ['pair-0', 0],
        ['pair-2', 2500],
      ],
    );
    assert.equal(plan.skipped, 2);
    assert.equal(plan.window.startMs, Date.parse('2024-03-10T12:00:00.000Z'));
  });
});

describe('observed responses', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  before(async () => {
    tmp = await tempDir();
  });
  after(async () => {
    await tmp.remove();
  });

  it('records bodies decoded from gzip, binary as base64, and cuts past the limit with truncated set', async () => {
    const big = 'x'.repeat(5000);
    const server = await startTarget((req, res) => {
      if (req.url === '/items/0') {
        res.setHeader('content-encoding', 'gzip');
        res.setHeader('content-type', 'application/json');
        return res.end(gzipSync('{"zipped":true}'));
      }
      if (req.url === '/items/1') return res.end(Buffer.from([0, 159, 146, 150]));
      res.end(big);
    });
    try {
      const file = path.join(tmp.dir, 'bodies.ndjson.gz');
      await runGenerator({
        pairs: [pair(0), pair(1), pair(2)],
        target: server.url,
        load: { connections: 1 },
        observedPath: file,
        maxBodyBytes: 1000,
      });
      const byId = new Map((await observed(file)).map((o) => [o.pairId, o.response?.body]));
      assert.deepEqual(byId.get('pair-0'), {
        encoding: 'utf8',
        data: '{"zipped":true}',
        size: 15,
        truncated: false,
        decodedFrom: 'gzip',
      });
      assert.deepEqual(byId.get('pair-1'), {
        encoding: 'base64',
        data: 'AJ+Slg==',
        size: 4,
        truncated: false,
      });
      assert.deepEqual(byId.get('pair-2'), {
        encoding: 'utf8',
        data: 'x'.repeat(1000),
        size: 5000,
        truncated: true,
      });
    } finally {
      await server.close();
    }
  });
});
