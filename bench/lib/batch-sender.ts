/**
 * Ships recorded pairs to a forwarder: tap batches to `/v1/tap` the way sidecars do (`--tap`:
 * raw heads and bodies, the forwarder parses them), or NDJSON batches to `/v1/pairs` the way
 * other producers do; each of `--concurrency` senders with its own keep-alive connection and
 * one batch in flight (a sidecar's shipper), run in its own process so the forwarder being
 * measured has its event loop to itself.
 * `node dist/bench/lib/batch-sender.js --url URL --pairs N [--batch 500] [--concurrency 4]
 *   [--service orders] [--tap] [--lazy]` prints one JSON line when done:
 * `{"event":"done","pairs","accepted","rejected","firstSendAt","lastAckAt","buildMs"}`.
 * Without `--lazy` every batch is encoded before the first is sent (so the sender costs the
 * measured forwarder no CPU while it runs); `--lazy` encodes each batch just before it is sent
 * (bounded memory for a million pairs).
 */
import http from 'node:http';
import { parseArgs } from 'node:util';
import { TAP_CONTENT_TYPE } from '../../src/protocols/capture/frames.js';
import { samplePair } from './sample-pairs.js';
import { tapBatch } from './tap-batches.js';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    pairs: { type: 'string', default: '100000' },
    batch: { type: 'string', default: '500' },
    concurrency: { type: 'string', default: '4' },
    service: { type: 'string', default: 'orders' },
    lazy: { type: 'boolean', default: false },
    tap: { type: 'boolean', default: false },
  },
});
if (!values.url) {
  process.stderr.write('batch-sender: --url is required\n');
  process.exit(2);
}
const tap = values.tap === true;
const url = new URL(tap ? '/v1/tap' : '/v1/pairs', values.url);
const TOTAL = Number(values.pairs);
const BATCH = Number(values.batch);
const CONCURRENCY = Number(values.concurrency);
const batchCount = Math.ceil(TOTAL / BATCH);

function encode(b: number): Buffer {
  const pairs = [];
  for (let i = b * BATCH; i < Math.min(TOTAL, (b + 1) * BATCH); i++) pairs.push(samplePair(i));
  if (tap) return tapBatch(pairs, b * BATCH);
  return Buffer.from(pairs.map((p) => JSON.stringify(p)).join('\n') + '\n');
}

const built0 = Date.now();
const prebuilt = values.lazy ? undefined : Array.from({ length: batchCount }, (_, b) => encode(b));
const buildMs = Date.now() - built0;

interface BatchResult {
  accepted: number;
  rejected: number;
}

/** Each sender is a sidecar of its own: its batches are numbered from 1. */
function post(agent: http.Agent, body: Buffer, sender: number, seq: number): Promise<BatchResult> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: 'POST',
      agent,
      headers: {
        'content-type': tap ? TAP_CONTENT_TYPE : 'application/x-ndjson',
        'content-length': body.length,
        'x-reprise-service': values.service!,
        'x-reprise-sidecar-dropped': '0',
        ...(tap && { 'x-reprise-sidecar': `bench-${process.pid}-${sender}`, 'x-reprise-seq': String(seq) }),
      },
    });
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode !== 202) reject(new Error(`forwarder answered ${res.statusCode}: ${text}`));
        else resolve(JSON.parse(text) as BatchResult);
      });
    });
    req.end(body);
  });
}

let next = 0;
let accepted = 0;
let rejected = 0;
const firstSendAt = Date.now();
await Promise.all(
  Array.from({ length: CONCURRENCY }, async (_, sender) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    let seq = 0;
    while (next < batchCount) {
      const b = next++;
      const r = await post(agent, prebuilt ? prebuilt[b] : encode(b), sender, ++seq);
      accepted += r.accepted;
      rejected += r.rejected;
    }
    agent.destroy();
  }),
);
const lastAckAt = Date.now();
process.stdout.write(
  JSON.stringify({ event: 'done', pairs: TOTAL, accepted, rejected, firstSendAt, lastAckAt, buildMs }) + '\n',
);
