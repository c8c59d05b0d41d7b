/**
 * - `forwarder-replicas-s3`: ingest pairs/s of one recording shared by 3 forwarder processes on
 *   the S3 store (each fed by its own sender, sealed over all three: flush each, one manifest)
 *   vs one forwarder on the same store, same run. On this 2-core machine the three share the
 *   cores with their senders and versitygw, so it measures what sharing costs, not a speed-up.
 */
import path from 'node:path';
import { ForwarderReplicas } from '../../src/forwarder/group.js';
import { openSnapshotStore } from '../../src/store/open.js';
import { TestS3Server } from '../../tools/versitygw.js';
import { alternate, median, round } from '../lib/common.js';
import type { Measure } from '../lib/types.js';
import { ingest, sendPairs, startForwarder, type ForwarderProcess } from './forwarder.js';

const REPLICAS = 3;
let seq = 0;

/** One recording over every replica: open shared, ship a third to each at once, seal over all. */
async function ingestShared(
  forwarders: ForwarderProcess[],
  group: ForwarderReplicas,
  pairs: number,
): Promise<number> {
  const snapshotId = `bench-replicas-${process.pid}-${++seq}`;
  const signal = new AbortController().signal;
  await group.open({ snapshotId, service: 'orders' }, signal);
  const share = Math.floor(pairs / forwarders.length);
  const sent = await Promise.all(forwarders.map((f) => sendPairs(f.url, share)));
  const manifest = await group.seal(snapshotId, signal);
  const end = Date.now();
  const total = share * forwarders.length;
  if (manifest.counts.pairs !== total || manifest.writers?.length !== forwarders.length)
    throw new Error(
      `sent ${total} pairs to ${forwarders.length} forwarders, ${manifest.counts.pairs} sealed`,
    );
  const first = Math.min(...sent.map((s) => Number(s.firstSendAt)));
  return total / ((end - first) / 1000);
}

const forwarderReplicas: Measure = {
  names: ['forwarder-replicas-s3'],
  budgetS: 240,
  async run(ctx) {
    const pairs = ctx.quick ? 15_000 : 60_000;
    const rounds = ctx.quick ? 1 : 3;
    const s3 = await TestS3Server.start();
    const env = s3.env('bench');
    const forwarders: ForwarderProcess[] = [];
    let single: ForwarderProcess | undefined;
    try {
      for (let i = 0; i < REPLICAS; i++)
        forwarders.push(await startForwarder(path.join(ctx.workDir, `replica-${i}`), true, env));
      single = await startForwarder(path.join(ctx.workDir, 'single'), true, env);
      const one = single;
      const group = new ForwarderReplicas(
        async () => forwarders.map((f) => f.url),
        openSnapshotStore(ctx.workDir, env),
      );
      await ingestShared(forwarders, group, 6_000); // warm-up
      await ingest(one, 6_000);
      const r = await alternate(
        rounds,
        async () => {
          const x = await ingestShared(forwarders, group, pairs);
          ctx.log(`${REPLICAS} forwarders -> S3: ${Math.round(x)} pairs/s`);
          return x;
        },
        async () => {
          const x = (await ingest(one, pairs)).pairsPerSec;
          ctx.log(`1 forwarder -> S3: ${Math.round(x)} pairs/s`);
          return x;
        },
      );
      const ratio = median(r.ratios);
      return [
        {
          name: 'forwarder-replicas-s3',
          unit: 'pairs/s',
          value: Math.round(median(r.a)),
          baseline: Math.round(median(r.b)),
          ratio: round(ratio),
          target: '>= 0.8x one forwarder (2 cores: the cost of sharing a recording, not a speed-up)',
          met: ratio >= 0.8,
          runs: r.ratios.map((x) => round(x)),
          notes: [
            `${pairs} pairs per recording, default DLP; ${REPLICAS} forwarders each fed a third by its own ` +
              'sender (4 sidecar connections each), timed from the first batch to the manifest over all ' +
              'parts (each replica flushed); the baseline is one forwarder fed all of them by one sender',
            'S3: versitygw v1.8.0 on loopback, on the same 2 cores as the forwarders and senders',
          ],
        },
      ];
    } finally {
      await Promise.all([...forwarders, ...(single ? [single] : [])].map((f) => f.stop()));
      await s3.close();
    }
  },
};

export const measures: Measure[] = [forwarderReplicas];
