/**
 * Plain HTTP/2 (not gRPC) recorded through the sidecar in front of nghttpd, replayed by the
 * generator over HTTP/2 and analysed: nghttpd's own log shows every replayed request as a stream
 * (h2c with prior knowledge, and h2 over TLS by ALPN for an https target), the report Passes, and
 * a changed file makes it Missed Goals naming its path. A recording whose replayed requests mix
 * HTTP/1.1 and HTTP/2 is refused naming both (load.include narrowing it to one kind replays on
 * that protocol); gRPC calls and plain requests in one recording replay together over HTTP/2
 * (nghttpx routing to the grpc-go greeter and to nghttpd), each observed in its own form.
 * Transforms edit plain HTTP/2 requests as HTTP/1.1 ones (send-time dates rendered per send) and
 * are refused, naming the field, for a recording with gRPC calls.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { cp, mkdir, writeFile } from 'node:fs/promises';
import https from 'node:https';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { analyzeReplay } from '../../src/analyzer/index.js';
import { Assertions, Goals } from '../../src/config/replay.js';
import { type GeneratorOptions, runGenerator, type LoadInput } from '../../src/generator/index.js';
import { bodyBytes } from '../../src/model/body.js';
import type { ObservedExchange } from '../../src/model/replay.js';
import type { RRPair } from '../../src/model/traffic.js';
import type { Report } from '../../src/report/schema.js';
import { loadCa } from '../../src/tls/ca.js';
import { LeafCertificates } from '../../sidecar/tls-interception.js';
import { sayHello } from '../helpers/grpc-recording.js';
import { type Server, peerTools, runClient, startServer } from '../protocols/peers.js';
import { type CaptureRig, captureRig } from '../sidecar/h2-harness.js';
import { counts, observed, startTarget } from './helpers.js';

const tools = peerTools();
const files = {
  'a.txt': Buffer.from('hello over h2\n'),
  'b.json': Buffer.from(JSON.stringify({ b: [1, 2, 3], name: 'widget' })),
  'c.bin': randomBytes(40_000),
};
let rig: CaptureRig;
let doc: string;
let recorder: Server;
let keyPem: string;
let certPem: string;
let leaf: { key: string; cert: string };
/** The recorded plain HTTP/2 requests: three GETs and a POST. */
let recorded: RRPair[] = [];
const servers: Server[] = [];

before(async () => {
  rig = await captureRig();
  doc = path.join(rig.dir, 'doc');
  await mkdir(doc);
  for (const [name, bytes] of Object.entries(files)) await writeFile(path.join(doc, name), bytes);
  const posted = path.join(rig.dir, 'posted.txt');
  await writeFile(posted, 'order=42');
  recorder = await startServer(tools.nghttpd, (port) => ['--no-tls', '-d', doc, String(port)]);
  const gets = await rig.capture({ appPort: recorder.port }, ({ inPort }) =>
    runClient(tools.nghttp, ['-n', ...['a.txt', 'b.json', 'c.bin?part=1'].map((f) => url(inPort, f))]),
  );
  const post = await rig.capture({ appPort: recorder.port }, ({ inPort }) =>
    runClient(tools.nghttp, ['-n', '-d', posted, url(inPort, 'b.json')]),
  );
  recorded = [...gets.pairs, ...post.pairs];
  const ca = await loadCa(path.join(rig.dir, 'ca'));
  leaf = await (await LeafCertificates.create(ca)).issue('localhost');
  keyPem = path.join(rig.dir, 'key.pem');
  certPem = path.join(rig.dir, 'cert.pem');
  await writeFile(keyPem, leaf.key);
  await writeFile(certPem, leaf.cert);
});

after(async () => {
  for (const s of [recorder, ...servers]) await s?.stop();
  await rig?.close();
});

const url = (port: number, file: string) => `http://127.0.0.1:${port}/${file}`;

/** nghttpd logging every frame (-v); `streams` lists each request it received: connection, stream, path. */
async function loggingNghttpd(root: string, tlsFiles: string[] = [], options: string[] = []) {
  let log = '';
  const server = await startServer(
    tools.nghttpd,
    (port) => [
      ...(tlsFiles.length ? [] : ['--no-tls']),
      ...options,
      '-v',
      '-d',
      root,
      String(port),
      ...tlsFiles,
    ],
    (text) => (log += text),
  );
  servers.push(server);
  const streams = () =>
    [...log.matchAll(/^\[id=(\d+)\] \[[ \d.]+\] recv \(stream_id=(\d+)\) :path: (\S+)$/gm)].map(
      ([, conn, stream, p]) => ({ conn: Number(conn), stream: Number(stream), path: p }),
    );
  return { server, streams, log: () => log };
}

let seq = 0;

async function replay(
  pairs: RRPair[],
  target: string,
  load: LoadInput = {},
  more: Pick<GeneratorOptions, 'transforms' | 'vars'> = {},
) {
  const observedPath = path.join(rig.dir, `observed-${++seq}.ndjson.gz`);
  const summary = await runGenerator({ pairs, target, load, observedPath, ...more });
  const lines = await observed(observedPath);
  assert.equal(lines.length, summary.requests, 'one observed line per request sent');
  return { summary, lines };
}

const analyze = (pairs: RRPair[], lines: ObservedExchange[], target: string): Promise<Report> =>
  analyzeReplay({
    recorded: (async function* () {
      yield* pairs;
    })(),
    observed: (async function* () {
      yield* lines;
    })(),
    assertions: Assertions.parse({}),
    goals: Goals.parse({}),
    meta: {
      replayId: `rp-h2-${seq}`,
      snapshotId: 'snap-h2',
      target,
      mode: 'full-replay',
      startedAt: new Date().toISOString(),
      endedAt: new Date().toISOString(),
    },
  });

const pathsOf = (pairs: RRPair[]) =>
  pairs.map(
    (p) =>
      p.request.path +
      (p.request.query.length ? `?${p.request.query.map((q) => q.join('=')).join('&')}` : ''),
  );

describe('generator: plain HTTP/2 recordings replay over HTTP/2', () => {
  it('the sidecar recorded plain HTTP/2 requests', () => {
    assert.equal(recorded.length, 4);
    assert.ok(recorded.every((p) => p.protocol === 'h2' && p.direction === 'inbound' && !p.grpc));
    const post = recorded.find((p) => p.request.method === 'POST')!;
    assert.equal(bodyBytes(post.request.body).toString(), 'order=42');
  });

  it('h2c with prior knowledge: nghttpd sees each request as a stream, multiplexed; the report passes', async () => {
    const { server, streams } = await loggingNghttpd(doc);
    const target = `http://127.0.0.1:${server.port}`;
    const { summary, lines } = await replay(recorded, target, { connections: 2, passes: 3 });
    assert.equal(summary.requests, 12);
    assert.equal(summary.errors, 0, JSON.stringify(summary.errorsByKind));
    const seen = streams();
    assert.deepEqual(
      counts(seen.map((s) => s.path)),
      counts([...pathsOf(recorded), ...pathsOf(recorded), ...pathsOf(recorded)]),
    );
    const perConnection = counts(seen.map((s) => String(s.conn)));
    assert.ok(perConnection.size <= 2, `at most 2 connections, got ${perConnection.size}`);
    assert.ok(
      [...perConnection.values()].some((n) => n > 1),
      'a connection carried several streams',
    );
    const bin = lines.find((l) => l.request.url === `${target}/c.bin?part=1`);
    assert.ok(bodyBytes(bin?.response?.body).equals(files['c.bin']), 'the binary body came back whole');
    const post = lines.find((l) => l.request.method === 'POST');
    assert.equal(post?.response?.status, 200);
    const report = await analyze(recorded, lines, target);
    assert.equal(report.verdict, 'Passed', report.verdictReason);
    assert.equal(report.summary.assertionsFailed, 0);
    assert.equal(report.summary.assertionsPassed, 12);
  });

  it("keeps to the server's SETTINGS_MAX_CONCURRENT_STREAMS: a 1-stream nghttpd refuses none", async () => {
    const { server, streams } = await loggingNghttpd(doc, [], ['-m', '1']);
    const { summary } = await replay(recorded, `http://127.0.0.1:${server.port}`, {
      connections: 1,
      passes: 5,
    });
    assert.deepEqual(summary.statusCounts, { '200': 20 }, JSON.stringify(summary.errorsByKind));
    assert.equal(new Set(streams().map((s) => s.conn)).size, 1, 'one connection');
    assert.equal(streams().length, 20);
  });

  it('two generators split the recording: each request once, both starting at startAt', async () => {
    const { server, streams } = await loggingNghttpd(doc);
    const startAt = Date.now() + 500;
    const runs = await Promise.all(
      [0, 1].map((index) =>
        runGenerator({
          pairs: recorded,
          target: `http://127.0.0.1:${server.port}`,
          observedPath: path.join(rig.dir, `replica-${index}.ndjson.gz`),
          shard: { index, count: 2 },
          startAt,
        }),
      ),
    );
    assert.deepEqual(
      runs.map((r) => [r.replica, r.requests, r.errors]),
      [
        ['1/2', 2, 0],
        ['2/2', 2, 0],
      ],
    );
    assert.ok(runs.every((r) => Date.parse(r.startedAt) >= startAt - 5));
    assert.deepEqual(counts(streams().map((s) => s.path)), counts(pathsOf(recorded)));
  });

  it('h2 over TLS, negotiated by ALPN, for an https target', async () => {
    const { server, streams } = await loggingNghttpd(doc, [keyPem, certPem]);
    const target = `https://localhost:${server.port}`;
    const { summary, lines } = await replay(recorded, target, { connections: 1 });
    assert.equal(summary.errors, 0, JSON.stringify(summary.errorsByKind));
    assert.deepEqual(counts(streams().map((s) => s.path)), counts(pathsOf(recorded)));
    const report = await analyze(recorded, lines, target);
    assert.equal(report.verdict, 'Passed', report.verdictReason);
  });

  it('a TLS target that does not speak h2 gives every request the error no-h2-alpn', async () => {
    // One refuses the ALPN offer (alert 120), one ignores ALPN and would answer HTTP/1.1.
    for (const server of [
      https.createServer({ ...leaf, ALPNProtocols: ['http/1.1'] }, (_, res) => res.end('HTTP/1.1 only')),
      tls.createServer(leaf, (socket) => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n')),
    ]) {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const port = (server.address() as AddressInfo).port;
        const { summary } = await replay(recorded, `https://127.0.0.1:${port}`, { connections: 1 });
        assert.deepEqual(summary.errorsByKind, { 'no-h2-alpn': 4 });
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    }
  });

  it('a changed response makes the report Missed Goals, naming the path', async () => {
    const changed = path.join(rig.dir, 'changed');
    await cp(doc, changed, { recursive: true });
    await writeFile(path.join(changed, 'b.json'), JSON.stringify({ b: [1, 2, 4], name: 'widget' }));
    const { server } = await loggingNghttpd(changed);
    const target = `http://127.0.0.1:${server.port}`;
    const { lines } = await replay(recorded, target, { connections: 2 });
    const report = await analyze(recorded, lines, target);
    assert.equal(report.verdict, 'Missed Goals', report.verdictReason);
    assert.equal(report.summary.assertionsFailed, 2, 'the GET and the POST of /b.json');
    const failed = report.diffs.filter((r) => r.diffs.some((d) => !d.noise));
    assert.deepEqual(failed.map((r) => r.endpoint).sort(), ['GET /b.json', 'POST /b.json']);
    assert.deepEqual([...new Set(failed.flatMap((r) => r.diffs.map((d) => d.path)))], ['$.b[2]']);
  });
});

describe('generator: the protocol is decided from every replayed request', () => {
  /** The first recorded GET, as if it had come over HTTP/1.1, at `atMs` from the first pair. */
  const http1Pair = (atMs: number): RRPair => {
    const { h2: _h2, ...rest } = recorded[0];
    return {
      ...rest,
      id: `legacy-${atMs}`,
      protocol: 'http/1.1',
      startedAt: new Date(Date.parse(recorded[0].startedAt) + atMs).toISOString(),
      request: { ...recorded[0].request, path: '/legacy' },
    };
  };

  /** The mix as a stored snapshot, read back streaming (as a replay reads it). */
  async function stored(pairs: RRPair[]): Promise<string> {
    const writer = await rig.store.createWriter({ service: 'svc', source: 'capture' });
    for (const p of pairs) await writer.append(p);
    await writer.seal();
    return writer.id;
  }

  // HTTP/1.1 read first: the HTTP/1.1 scan finds the HTTP/2 ones; read last: the HTTP/2 planner does.
  for (const where of ['first', 'last'] as const) {
    it(`refuses HTTP/1.1 among HTTP/2 requests (HTTP/1.1 read ${where}), naming both, in memory or stored`, async () => {
      const mixed = where === 'first' ? [http1Pair(-1000), ...recorded] : [...recorded, http1Pair(60_000)];
      const snapshotId = await stored(mixed);
      for (const source of [{ pairs: mixed }, { store: rig.store, snapshotId }]) {
        await assert.rejects(
          runGenerator({
            ...source,
            target: 'http://127.0.0.1:9',
            observedPath: path.join(rig.dir, 'no.ndjson.gz'),
          }),
          (err: Error) =>
            err.name === 'GeneratorConfigError' &&
            /^pairs: the recording mixes HTTP\/1\.1 and HTTP\/2 inbound requests/.test(err.message) &&
            /over HTTP\/2, first GET \/a\.txt/.test(err.message) &&
            /over HTTP\/1\.1, first GET \/legacy/.test(err.message) &&
            /load\.include/.test(err.message),
        );
      }
    });
  }

  it('load.include narrowed to one kind replays it on its own protocol', async () => {
    const mixed = [http1Pair(-1000), ...recorded];
    const { server, streams } = await loggingNghttpd(doc);
    const h2 = await replay(mixed, `http://127.0.0.1:${server.port}`, { include: ['/a.txt', '/c.bin'] });
    assert.equal(h2.summary.errors, 0);
    assert.deepEqual(
      streams()
        .map((s) => s.path)
        .sort(),
      ['/a.txt', '/c.bin?part=1'],
    );
    const http1 = await startTarget();
    try {
      const legacy = await replay(mixed, http1.url, { include: ['/legacy'] });
      assert.equal(legacy.summary.errors, 0);
      assert.deepEqual(
        http1.arrivals.map((a) => a.url),
        ['/legacy'],
      );
    } finally {
      await http1.close();
    }
  });

  it('gRPC calls and plain requests in one recording replay together over HTTP/2, each in its form', async () => {
    const greeter = await startServer(tools.greeter_server, (p) => [`-port=${p}`]);
    servers.push(greeter);
    const grpc = await rig.capture({ appPort: greeter.port }, ({ inPort }) =>
      sayHello('reprise')(`127.0.0.1:${inPort}`),
    );
    assert.equal(grpc.pairs.length, 1);
    assert.ok(grpc.pairs[0].grpc, 'recorded as a gRPC call');
    // One HTTP/2 front: the greeter's service to grpc-go, everything else to nghttpd.
    const { server: files2 } = await loggingNghttpd(doc);
    const front = await startServer(tools.nghttpx, (port) => [
      '--conf=/dev/null',
      `--frontend=127.0.0.1,${port};no-tls`,
      `--backend=127.0.0.1,${greeter.port};/helloworld.Greeter/;proto=h2`,
      `--backend=127.0.0.1,${files2.port};;proto=h2`,
      '--workers=1',
      '--accesslog-file=/dev/null',
      '--errorlog-file=/dev/null',
    ]);
    servers.push(front);
    const mixed = [...grpc.pairs, ...recorded];
    const target = `http://127.0.0.1:${front.port}`;
    const { summary, lines } = await replay(mixed, target, { connections: 1 });
    assert.equal(summary.errors, 0, JSON.stringify(summary.errorsByKind));
    const call = lines.find((l) => l.pairId === grpc.pairs[0].id)!;
    assert.equal((call.response?.grpc as { status?: number }).status, 0);
    const plain = lines.filter((l) => l.pairId !== grpc.pairs[0].id);
    assert.equal(plain.length, 4);
    assert.ok(plain.every((l) => l.response?.grpc === undefined && l.response?.status === 200));
    const report = await analyze(mixed, lines, target);
    assert.equal(report.verdict, 'Passed', report.verdictReason);
    assert.equal(report.summary.assertionsPassed, 5);
    await assert.rejects(
      replay(mixed, target, {}, { transforms: [{ type: 'header', name: 'x-replayed', value: 'yes' }] }),
      (err: Error) =>
        /transforms/.test(err.message) &&
        /1 gRPC calls/.test(err.message) &&
        /load\.include/.test(err.message),
    );
  });

  it('transforms edit plain HTTP/2 requests: a header set, a token replaced, a date shifted at each send', async () => {
    const { server, streams, log } = await loggingNghttpd(doc);
    const recordedAt = recorded[0].startedAt;
    const transforms = [
      { type: 'replace' as const, find: 'a.txt', with: '${var:FILE}' },
      { type: 'header' as const, name: 'x-replayed', value: 'yes' },
      { type: 'header' as const, name: 'x-when', value: recordedAt },
      { type: 'date-shift' as const, in: ['headers' as const] },
    ];
    const { summary } = await replay(
      recorded,
      `http://127.0.0.1:${server.port}`,
      { passes: 2 },
      {
        transforms,
        vars: { FILE: 'b.json' },
      },
    );
    assert.equal(summary.errors, 0, JSON.stringify(summary.errorsByKind));
    const paths = streams().map((s) => s.path);
    assert.equal(paths.length, 8);
    assert.ok(!paths.includes('/a.txt'), 'a.txt was replaced');
    assert.equal(paths.filter((p) => p === '/b.json').length, 6);
    assert.equal([...log().matchAll(/ x-replayed: yes$/gm)].length, 8);
    const sentDates = [...log().matchAll(/ x-when: (\S+)$/gm)].map((m) => m[1]);
    assert.equal(sentDates.length, 8);
    for (const d of sentDates)
      assert.ok(Date.parse(d) > Date.parse(recordedAt), `${d} shifted past ${recordedAt}`);
    assert.ok(new Set(sentDates).size > 1, 'rendered at each send, not once');
  });
});
