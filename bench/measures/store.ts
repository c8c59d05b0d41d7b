/**
 * The snapshot store behind the forwarder:
 * - `store-s3-ingest`: forwarder ingest pairs/s writing to an S3-compatible server (versitygw on
 *   loopback, multipart uploads) vs writing to the filesystem, same run, same DLP.
 */
import path from 'node:path';
import type { Measure } from '../lib/types.js';
import { median, round } from '../lib/common.js';
import { TestS3Server } from '../../tools/versitygw.js';
import { compareIngest, startForwarder } from './forwarder.js';

const storeS3Ingest: Measure = {
  names: ['store-s3-ingest'],
  budgetS: 180,
  async run(ctx) {
    // ~90 MB of NDJSON, ~12 MB gzipped: past one 8 MiB part, so the upload is multipart.
    const pairs = ctx.quick ? 20_000 : 80_000;
    const rounds = ctx.quick ? 1 : 3;
    const s3 = await TestS3Server.start();
    const fs = await startForwarder(path.join(ctx.workDir, 'fs'), true);
    const bucket = await startForwarder(path.join(ctx.workDir, 's3'), true, s3.env('bench'));
    try {
      const r = await compareIngest(
        ctx.log,
        { fwd: bucket, label: '-> S3' },
        { fwd: fs, label: '-> filesystem' },
        pairs,
        rounds,
      );
      const ratio = median(r.ratios);
      return [
        {
          name: 'store-s3-ingest',
          unit: 'pairs/s',
          value: Math.round(median(r.a.map((x) => x.pairsPerSec))),
          baseline: Math.round(median(r.b.map((x) => x.pairsPerSec))),
          ratio: round(ratio),
          target: '>= 0.7x the filesystem store',
          met: ratio >= 0.7,
          runs: r.ratios.map((x) => round(x)),
          notes: [
            `${pairs} pairs per run (~${Math.round(r.a[0].bytesPerPair)} B each), default DLP on both, shipped ` +
              'as sidecars ship them; timed from the first batch to the sealed snapshot (S3: the traffic ' +
              'object uploaded, multipart past 8 MiB, and the manifest written)',
            'S3: versitygw v1.8.0 (posix backend) on loopback, on the same 2 cores as the forwarder and sender',
          ],
        },
      ];
    } finally {
      await bucket.stop();
      await fs.stop();
      await s3.close();
    }
  },
};

export const measures: Measure[] = [storeS3Ingest];
