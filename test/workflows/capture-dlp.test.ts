/**
 * DLP through the whole capture path: a client sends secrets through the real sidecar to a real
 * app in a captureWorkflow (local runtime: sidecar and forwarder processes), the app passes some
 * of them on to its dependency through the sidecar's forward proxy, and the sealed snapshot's
 * files are scanned byte by byte: no secret is stored, except in the one binary body DLP cannot
 * scan, which is stored as sent, tagged and counted.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { UNSCANNED_TAG, type RRPair } from '../../src/model/traffic.js';
import { FsSnapshotStore } from '../../src/store/fs-store.js';
import { captureWorkflow, progressQuery, stopSignal } from '../../workflows/capture.js';
import { startHarness, TASK_QUEUE, workflowId, type WorkflowHarness } from './harness.js';
import { waitFor } from './loopback.js';

const SECRETS = {
  card: '4111 1111 1111 1111',
  email: 'jo.doe@example.com',
  password: 'hunter2-Correct-Horse',
  bearer: 'sk_live_9f8e7d6c5b4a3210',
  cookie: 'sess-7c1e2d9a4b',
  apiKey: 'ak-outbound-5511',
  queryToken: 'qt-31415926535',
  latin1Card: '5555 5555 5555 4444',
};
/** Sent in a binary body, which DLP cannot scan: it must arrive in the store unchanged. */
const BINARY = Buffer.concat([Buffer.from([0x89, 0x50, 0x00, 0xff]), Buffer.from(`card=${SECRETS.card}`)]);

const readBody = async (req: IncomingMessage) => {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
};

/** An app that echoes what it got, and passes the card on to a payment dependency. */
async function startPaymentApp(proxyPort: () => number) {
  const dependency = createServer(async (req, res) => {
    const body = JSON.parse((await readBody(req)).toString()) as { card: string; email: string };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ charged: body.card }));
  });
  const app = createServer(async (req, res) => {
    const body = await readBody(req);
    if (req.url?.startsWith('/pay')) {
      const order = JSON.parse(body.toString()) as { card: string; email: string };
      // Through the sidecar's forward proxy, as HTTP_PROXY would route it.
      const out = request({
        host: '127.0.0.1',
        port: proxyPort(),
        method: 'POST',
        path: `http://127.0.0.1:${port(dependency)}/charge`,
        headers: {
          host: `127.0.0.1:${port(dependency)}`,
          'content-type': 'application/json',
          'x-api-key': SECRETS.apiKey,
        },
      });
      out.end(JSON.stringify({ card: order.card, email: order.email }));
      const [dep] = (await new Promise((resolve, reject) => {
        out.once('response', (r) => resolve([r]));
        out.once('error', reject);
      })) as [IncomingMessage];
      const charged = await readBody(dep);
      res
        .writeHead(200, {
          'content-type': 'application/json',
          'set-cookie': `session=${SECRETS.cookie}; HttpOnly`,
        })
        .end(JSON.stringify({ ok: true, email: order.email, dependency: JSON.parse(charged.toString()) }));
      return;
    }
    // Echo with the same content type: Latin-1 text, binary.
    res
      .writeHead(200, { 'content-type': req.headers['content-type'] ?? 'application/octet-stream' })
      .end(body);
  });
  await Promise.all([listen(dependency), listen(app)]);
  return { port: port(app), close: () => Promise.all([close(app), close(dependency)]) };
}

const listen = (s: Server) => new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
const port = (s: Server) => (s.address() as { port: number }).port;
const close = (s: Server) =>
  new Promise<void>((resolve) => {
    s.closeAllConnections();
    s.close(() => resolve());
  });

describe('DLP on the whole capture path', () => {
  let h: WorkflowHarness;
  let app: Awaited<ReturnType<typeof startPaymentApp>>;
  let outPort = 0;
  before(async () => {
    h = await startHarness();
    app = await startPaymentApp(() => outPort);
  });
  after(async () => {
    await app?.close();
    await h?.close();
  });

  it('no secret a client sent reaches the sealed snapshot; the binary body is kept, tagged and counted', async () => {
    const handle = await h.client.workflow.start(captureWorkflow, {
      taskQueue: TASK_QUEUE,
      workflowId: workflowId('dlp'),
      args: [{ service: 'payments', target: { appPort: app.port, inPort: 0, outPort: 0 } }],
    });
    const progress = await waitFor('capturing', async () => {
      const p = await handle.query(progressQuery);
      return p.phase === 'capturing' && p;
    });
    outPort = progress.outPort!;
    const base = `http://127.0.0.1:${progress.inPort}`;
    const send = async (urlPath: string, headers: Record<string, string>, body: string | Buffer) => {
      const res = await fetch(base + urlPath, { method: 'POST', headers, body });
      assert.equal(res.status, 200, `${urlPath}: ${await res.clone().text()}`);
      return Buffer.from(await res.arrayBuffer());
    };
    const paid = await send(
      `/pay/${encodeURIComponent(SECRETS.email)}?token=${SECRETS.queryToken}`,
      {
        'content-type': 'application/json',
        authorization: `Bearer ${SECRETS.bearer}`,
        cookie: `session=${SECRETS.cookie}`,
      },
      JSON.stringify({ card: SECRETS.card, email: SECRETS.email, password: SECRETS.password }),
    );
    assert.match(paid.toString(), new RegExp(SECRETS.card), 'the app really got and passed on the card');
    const latin1 = Buffer.from(`Bestellung für Müller, Karte ${SECRETS.latin1Card}`, 'latin1');
    assert.deepEqual(
      await send('/legacy', { 'content-type': 'text/plain; charset=iso-8859-1' }, latin1),
      latin1,
    );
    assert.deepEqual(await send('/upload', { 'content-type': 'application/octet-stream' }, BINARY), BINARY);

    await waitFor('the pairs', async () => (await handle.query(progressQuery)).pairs >= 4);
    await handle.signal(stopSignal);
    const result = await handle.result();
    assert.equal(result.pairs, 4, '3 inbound and 1 outbound');

    const store = new FsSnapshotStore(h.home);
    const manifest = await store.getManifest(result.snapshotId);
    assert.equal(manifest.counts.unscannedBodies, 2, "the upload's request and echoed response");
    const pairs: RRPair[] = [];
    for await (const p of store.readPairs(result.snapshotId)) pairs.push(p);

    // Every byte the store holds for this snapshot, and every body decoded.
    const dir = path.join(store.root, result.snapshotId);
    const files = await readdir(dir);
    const raw = (
      await Promise.all(
        files.map(async (f) => {
          const bytes = await readFile(path.join(dir, f));
          return (f.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('latin1');
        }),
      )
    ).join('\n');
    const decoded = pairs
      .filter((p) => !p.tags[UNSCANNED_TAG])
      .flatMap((p) => [p.request.body, p.response?.body])
      .filter((b) => b?.encoding === 'base64')
      .map((b) => Buffer.from(b!.data, 'base64').toString('latin1'))
      .join('\n');
    for (const [name, secret] of Object.entries(SECRETS)) {
      const forms = [secret, encodeURIComponent(secret), secret.replace(/ /g, '')];
      for (const form of forms) {
        assert.ok(!raw.includes(form), `${name} (${form}) is in the stored files`);
        assert.ok(!decoded.includes(form), `${name} (${form}) is in a stored body`);
      }
    }

    // The same card is the same token inbound and outbound: a replay can still correlate them.
    const cardTokens = (p: RRPair | undefined) =>
      JSON.stringify(p).match(/REDACTED-card-[0-9a-f]{12}/g) ?? [];
    const inbound = pairs.find((p) => p.direction === 'inbound' && p.request.path.startsWith('/pay'));
    const outbound = pairs.find((p) => p.direction === 'outbound');
    assert.ok(cardTokens(inbound).length >= 1 && cardTokens(outbound).length >= 1, JSON.stringify(outbound));
    assert.equal(new Set([...cardTokens(inbound), ...cardTokens(outbound)]).size, 1);

    // The Latin-1 body was masked byte for byte; the binary one is stored exactly as sent.
    const legacy = pairs.find((p) => p.request.path === '/legacy')!;
    assert.match(
      Buffer.from(legacy.request.body!.data, 'base64').toString('latin1'),
      /^Bestellung für Müller, Karte REDACTED-card-[0-9a-f]{12}$/,
    );
    const upload = pairs.find((p) => p.request.path === '/upload')!;
    assert.equal(upload.tags[UNSCANNED_TAG], 'request.body,response.body');
    assert.deepEqual(Buffer.from(upload.request.body!.data, 'base64'), BINARY);
  });
});
