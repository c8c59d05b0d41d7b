/**
 * An ingest thread (lanes.ts): takes tap batches from the forwarder's main thread one at a
 * time, in order, and answers each with its encoded lines (moved, not copied) and the thread's
 * DLP counts so far.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { childLog } from '../base/log.js';
import { GrpcSchemas } from './grpc-schemas.js';
import { LaneIngest, type LaneBatch, type LaneResult } from './lane-ingest.js';
import type { LaneReply } from './lanes.js';
import { PolicyCache } from './policy.js';
import { TapSessions } from './tap-sessions.js';

const { dlpKey, grpcReflection } = workerData as { dlpKey: Uint8Array; grpcReflection: boolean };
const policies = new PolicyCache(Buffer.from(dlpKey));
const log = childLog('forwarder');
const lane = new LaneIngest(new TapSessions(), policies, new GrpcSchemas({ enabled: grpcReflection, log }));
const port = parentPort!;

async function answer(id: number, batch: LaneBatch): Promise<void> {
  let result: LaneResult | undefined;
  let error: string | undefined;
  try {
    result = await lane.run(batch);
  } catch (err) {
    error = (err as Error).message || String(err);
  }
  const reply: LaneReply = {
    id,
    result,
    error,
    masked: policies.maskedTotals(),
    unscanned: policies.unscannedTotal(),
  };
  const moved = result?.kind === 'decoded' ? result.outputs.map((o) => o.lines.buffer as ArrayBuffer) : [];
  port.postMessage(reply, moved);
}

// One batch at a time: a sidecar's batches must reach its session in the order they were sent.
let chain = Promise.resolve();
port.on('message', ({ id, batch }: { id: number; batch: LaneBatch }) => {
  chain = chain.then(() => answer(id, batch));
});
