import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { FsSnapshotStore } from '../../src/store/fs-store.js';
import { bodyBytes } from '../../src/model/body.js';
import type { RRPair } from '../../src/model/traffic.js';
import {
  exportHar,
  harToPairs,
  HarFormatError,
  importHar,
  importHarFile,
  writeHar,
} from '../../src/har/index.js';
import { harProblems } from './har-check.js';

// HAR documents are untyped JSON here.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/har');
const loadFixture = async (name: string): Promise<Json> =>
  JSON.parse(await readFile(path.join(fixtures, name), 'utf8'));

const homes: string[] = [];
after(() => Promise.all(homes.map((h) => rm(h, { recursive: true, force: true }))));

async function newStore() {
  const home = await mkdtemp(path.join(tmpdir(), 'reprise-har-'));
  homes.push(home);
  return { home, store: new FsSnapshotStore(home) };
}

async function pairsOf(store: FsSnapshotStore, id: string): Promise<RRPair[]> {
  const out: RRPair[] = [];
  for await (const p of store.readPairs(id)) out.push(p);
  return out;
}

const isHttp = (e: Json) => /^(https?|wss?):/.test(e.request.url);
const plainHeaders = (hs: Json[]) => hs.filter((h) => !h.name.startsWith(':')).map((h) => [h.name, h.value]);
const decodedQuery = (url: string) => [...new URL(url).searchParams];
const postBytes = (pd: Json) =>
  pd?.text
    ? Buffer.from(pd.text, pd._encoding === 'base64' || pd.encoding === 'base64' ? 'base64' : 'utf8')
    : Buffer.alloc(0);
const contentBytes = (c: Json) =>
  c?.text ? Buffer.from(c.text, c.encoding === 'base64' ? 'base64' : 'utf8') : Buffer.alloc(0);

/** Every request and response of `original` survives import + export unchanged. */
function assertRoundTrip(original: Json, exported: Json) {
  const before = original.log.entries.filter(isHttp);
  const after = exported.log.entries;
  assert.equal(after.length, before.length);
  before.forEach((a: Json, i: number) => {
    const b = after[i];
    const at = `entry ${i} (${a.request.url})`;
    assert.equal(b.request.method, a.request.method, at);
    assert.equal(b.request.url, a.request.url, at);
    assert.deepEqual(plainHeaders(b.request.headers), plainHeaders(a.request.headers), at);
    assert.deepEqual(
      b.request.queryString.map((q: Json) => [q.name, q.value]),
      decodedQuery(a.request.url),
      at,
    );
    assert.deepEqual(postBytes(b.request.postData), postBytes(a.request.postData), at);
    assert.equal(Date.parse(b.startedDateTime), Date.parse(a.startedDateTime), at);
    assert.equal(b.response.status, a.response.status, at);
    if (a.response.status !== 0) {
      assert.equal(b.response.statusText, a.response.statusText, at);
      assert.deepEqual(plainHeaders(b.response.headers), plainHeaders(a.response.headers), at);
      assert.deepEqual(contentBytes(b.response.content), contentBytes(a.response.content), at);
    }
  });
}

test('a Chrome DevTools HAR imports as inbound h2 pairs', async () => {
  const { store } = await newStore();
  const har = await loadFixture('chrome-devtools.har');
  const m = await importHar(store, har, { service: 'shop' });
  assert.equal(m.source, 'har-import');
  assert.equal(m.service, 'shop');
  assert.deepEqual(m.meta, {
    harCreator: 'WebInspector',
    harCreatorVersion: '537.36',
    harSkippedEntries: '1',
  });
  assert.equal(m.counts.pairs, 5, 'the data: URL entry is left out');
  assert.equal(m.counts.inbound, 5);
  assert.equal(m.window.start, '2024-05-14T09:21:07.348Z');

  const [order, pixel, search, page, blocked] = await pairsOf(store, m.id);
  assert.equal(order.protocol, 'h2');
  assert.equal(order.direction, 'inbound');
  assert.deepEqual(
    {
      scheme: order.request.scheme,
      host: order.request.host,
      port: order.request.port,
      path: order.request.path,
    },
    { scheme: 'https', host: 'api.shop.example', port: 443, path: '/v1/orders' },
  );
  assert.deepEqual(order.request.query, [['expand', 'items']]);
  assert.ok(!order.request.headers.some(([n]) => n.startsWith(':')), 'pseudo-headers are dropped');
  assert.deepEqual(order.request.headers[0], ['accept', 'application/json']);
  assert.equal(order.request.body?.data, har.log.entries[0].request.postData.text);
  assert.equal(order.response?.status, 201);
  assert.equal(order.response?.body?.decodedFrom, 'gzip', 'HAR text is decoded; the header says gzip');
  assert.equal(order.durationMs, 87.41);
  assert.equal(order.startedAt, '2024-05-14T09:21:07.348Z');

  assert.equal(pixel.response?.body?.encoding, 'base64');
  assert.deepEqual(
    bodyBytes(pixel.response?.body),
    Buffer.from(har.log.entries[1].response.content.text, 'base64'),
  );
  assert.deepEqual(search.request.query, [
    ['q', 'red shoes'],
    ['sort', 'price:asc'],
    ['tags', 'sale,new'],
  ]);
  assert.deepEqual(
    page.response?.body,
    { encoding: 'utf8', data: '', size: 5120, truncated: true },
    'text left out',
  );
  assert.equal(m.counts.truncatedBodies, 1);
  assert.equal(blocked.response, undefined);
  assert.deepEqual(blocked.error, { code: 'NO_RESPONSE', message: 'net::ERR_BLOCKED_BY_CLIENT' });
});

test('Chrome HAR round trip: import then export keeps every request and response', async () => {
  const { store } = await newStore();
  const har = await loadFixture('chrome-devtools.har');
  const m = await importHar(store, har, { service: 'shop' });
  const exported = await exportHar(store, m.id);
  assert.deepEqual(harProblems(exported), []);
  assertRoundTrip(har, exported);
  assert.equal(exported.log.creator.name, 'reprise');
  const page = exported.log.entries[3];
  assert.match(page.response.content.comment ?? '', /truncated by reprise: 0 of 5120 bytes/);
  assert.equal(exported.log.entries[0].response.redirectURL, '/v1/orders/ord_8f3a2c');
  assert.deepEqual(exported.log.entries[0].request.cookies, [
    { name: 'session', value: 's%3Aabc123' },
    { name: 'theme', value: 'dark' },
  ]);
  assert.equal(exported.log.entries[0].response.cookies[0].httpOnly, true);
});

test('a mitmproxy HAR (base64 binary content, null timings, +00:00 times) round-trips', async () => {
  const { store } = await newStore();
  const har = await loadFixture('mitmproxy.har');
  const m = await importHar(store, har, { service: 'api', direction: 'outbound' });
  assert.equal(m.counts.outbound, 4);
  assert.equal(m.meta.harCreator, 'mitmproxy exporthar');

  const [login, binary, commit, refused] = await pairsOf(store, m.id);
  assert.equal(login.startedAt, '2024-05-14T10:02:11.512Z');
  assert.equal(login.request.port, 8080);
  assert.equal(login.request.body?.data, 'username=ada&password=correct+horse&remember=on');
  assert.equal(binary.response?.body?.encoding, 'base64');
  assert.deepEqual(
    bodyBytes(binary.response?.body),
    Buffer.from(har.log.entries[1].response.content.text, 'base64'),
  );
  assert.equal(commit.protocol, 'h2');
  assert.equal(commit.request.port, 8443);
  assert.equal(commit.request.body, undefined, 'an empty postData text is no body');
  assert.equal(commit.response?.statusText, '');
  assert.equal(refused.error?.message, 'Connection refused');

  const exported = await exportHar(store, m.id);
  assert.deepEqual(harProblems(exported), []);
  assertRoundTrip(har, exported);
  assert.equal(exported.log.entries[1].response.content.encoding, 'base64');
});

test('a Firefox-style entry (Host header on h2, local time offset, params only) imports', () => {
  const har = {
    log: {
      version: '1.2',
      creator: { name: 'Firefox', version: '125.0' },
      browser: { name: 'Firefox', version: '125.0' },
      pages: [],
      entries: [
        {
          pageref: 'page_1',
          startedDateTime: '2024-05-14T11:21:07.348+02:00',
          request: {
            bodySize: 21,
            method: 'POST',
            url: 'https://shop.example/search',
            httpVersion: 'HTTP/2',
            headers: [
              { name: 'Host', value: 'shop.example' },
              { name: 'Content-Type', value: 'application/x-www-form-urlencoded' },
            ],
            cookies: [],
            queryString: [],
            headersSize: 310,
            postData: {
              mimeType: 'application/x-www-form-urlencoded',
              params: [{ name: 'q', value: 'red shoes' }],
            },
          },
          response: {
            status: 302,
            statusText: 'Found',
            httpVersion: 'HTTP/2',
            headers: [{ name: 'location', value: '/results' }],
            cookies: [],
            content: { mimeType: 'text/plain', size: 0, text: '' },
            redirectURL: '/results',
            headersSize: 120,
            bodySize: 120,
          },
          cache: {},
          timings: { blocked: -1, dns: 0, connect: 0, ssl: 0, send: 0, wait: 44, receive: 0 },
          time: 44,
          _securityState: 'secure',
          serverIPAddress: '203.0.113.10',
          connection: '443',
        },
      ],
    },
  };
  const [p] = harToPairs(har, { service: 'shop' });
  assert.equal(p.startedAt, '2024-05-14T09:21:07.348Z');
  assert.equal(p.protocol, 'h2');
  assert.deepEqual(p.request.headers[0], ['Host', 'shop.example']);
  assert.equal(p.request.body?.data, 'q=red+shoes');
  assert.equal(p.response?.status, 302);
  assert.equal(p.response?.body, undefined);
});

test('writeHar streams a valid document to a slow writable without ending it', async () => {
  const { store } = await newStore();
  const writer = await store.createWriter({ service: 'orders', source: 'capture' });
  const body = (s: string) => ({
    encoding: 'utf8' as const,
    data: s,
    size: Buffer.byteLength(s),
    truncated: false,
  });
  for (let i = 0; i < 2000; i++) {
    await writer.append({
      id: `p${i}`,
      direction: i % 2 ? 'outbound' : 'inbound',
      service: 'orders',
      protocol: 'http/1.1',
      startedAt: new Date(Date.UTC(2024, 0, 1) + i).toISOString(),
      durationMs: 2,
      request: {
        method: 'PUT',
        scheme: 'http',
        host: '::1',
        port: 8080,
        path: `/items/${i}`,
        query: [['a b', 'c&d=e+f/é']],
        headers: [['content-type', 'application/octet-stream']],
        body: {
          encoding: 'base64',
          data: Buffer.from([0, 1, 2, i % 256]).toString('base64'),
          size: 4,
          truncated: false,
        },
      },
      response: { status: 200, headers: [['content-type', 'text/plain']], body: body(`ok ${i}`) },
      tags: {},
    });
  }
  const m = await writer.seal();

  const chunks: string[] = [];
  let ended = false;
  const slow = new Writable({
    highWaterMark: 1024,
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      setImmediate(cb);
    },
    final(cb) {
      ended = true;
      cb();
    },
  });
  const n = await writeHar(store, m.id, slow);
  assert.equal(n, 2000);
  assert.equal(ended, false, 'the caller ends the stream (it may be stdout)');
  slow.end();
  await finished(slow);
  const har = JSON.parse(chunks.join(''));
  assert.deepEqual(harProblems(har), []);
  assert.deepEqual(har, await exportHar(store, m.id));
  const first = har.log.entries[0];
  assert.equal(first.request.url, 'http://[::1]:8080/items/0?a%20b=c%26d%3De%2Bf/%C3%A9');
  assert.deepEqual(decodedQuery(first.request.url), [['a b', 'c&d=e+f/é']]);
  assert.equal((first.request.postData as Json)._encoding, 'base64');
  assert.equal(first.response.statusText, 'OK');

  // The exported HAR imports back to the same requests, each on its side of the same service.
  assert.equal((har as Json).log._service, 'orders');
  assert.deepEqual(
    har.log.entries.slice(0, 2).map((e: Json) => e._direction),
    ['inbound', 'outbound'],
  );
  const again = await importHar(store, har, {});
  assert.equal(again.service, 'orders');
  assert.deepEqual([again.counts.inbound, again.counts.outbound], [1000, 1000]);
  const back = await pairsOf(store, again.id);
  const orig = await pairsOf(store, m.id);
  assert.deepEqual(
    back.map((p) => [p.direction, p.service, p.request]),
    orig.map((p) => [p.direction, p.service, p.request]),
  );
  // A service given to the import wins over the document's; the sides stay as recorded.
  const renamed = await importHar(store, har, { service: 'orders-copy', direction: 'outbound' });
  assert.equal(renamed.service, 'orders-copy');
  assert.deepEqual([renamed.counts.inbound, renamed.counts.outbound], [1000, 1000]);
});

test('bad HAR input fails with the JSON path at fault and leaves nothing in the store', async () => {
  const { home, store } = await newStore();
  const file = path.join(home, 'bad.har');
  await writeFile(file, 'this is not json');
  await assert.rejects(importHarFile(store, file, { service: 's' }), /bad\.har is not JSON/);

  const cases: [unknown, RegExp][] = [
    [[], /expected a HAR 1\.2 document/],
    [{ log: {} }, /^log\.entries: expected an array of entries$/],
    [{ log: { entries: [{}] } }, /^log\.entries\[0\]\.startedDateTime: expected an ISO 8601 date$/],
  ];
  const entry = (url?: unknown) => ({
    startedDateTime: '2024-05-14T09:21:07.348Z',
    time: 1,
    request: { method: 'GET', ...(url === undefined ? {} : { url }), headers: [] },
    response: { status: 200, headers: [], content: { size: 0, mimeType: '' } },
  });
  const good = entry('http://a.example/x');
  cases.push([
    { log: { entries: [good, good, good, entry()] } },
    /^log\.entries\[3\]\.request\.url: expected a URL$/,
  ]);
  cases.push([
    { log: { entries: [entry('not a url')] } },
    /^log\.entries\[0\]\.request\.url: expected a URL$/,
  ]);
  cases.push([
    { log: { entries: [{ ...good, response: { status: 42 } }] } },
    /^log\.entries\[0\]\.response\.status: expected 0 or an HTTP status/,
  ]);
  cases.push([
    { log: { entries: [good, { ...good, _direction: 'sideways' }] } },
    /^log\.entries\[1\]\._direction: expected "inbound" or "outbound"$/,
  ]);
  cases.push([{ log: { _service: '../x', entries: [good] } }, /^log\._service: expected a service name/]);
  for (const [har, message] of cases) {
    await assert.rejects(importHar(store, har, { service: 's' }), (err: Error) => {
      assert.ok(err instanceof HarFormatError, String(err));
      assert.match(err.message, message);
      return true;
    });
  }
  assert.deepEqual(await store.list(), []);
  assert.deepEqual(await readdir(path.join(home, 'snapshots')), [], 'the aborted import left no partial');
});
