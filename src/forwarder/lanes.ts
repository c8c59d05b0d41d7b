/**
 * Where tap batches are decoded, masked and encoded (lane-ingest.ts): on ingest threads, so one
 * forwarder uses more than one core, or inline on the main thread when it has none. A sidecar
 * stays on one lane (its session, batch numbers and HTTP/2 state, lives there); a new sidecar
 * goes to the lane serving the fewest. A lane's queue is bounded: past it a batch is refused
 * with 503, counted, and the sidecar sends it again. A lane whose thread dies is started again;
 * its batches in flight are refused the same way, and its sidecars' HTTP/2 state is gone (the
 * decoder counts what that loses, as after a restart of the forwarder).
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { usableCpus } from '../base/cpus.js';
import { HttpError } from './http-error.js';
import type { GrpcSchemas } from './grpc-schemas.js';
import { LaneIngest, type LaneBatch, type LanePolicy, type LaneResult } from './lane-ingest.js';
import { addCounts, type Policy, type PolicyCache } from './policy.js';
import { TapSessions } from './tap-sessions.js';

/** Batches waiting on one lane (the one being decoded included) before it refuses more. */
export const DEFAULT_MAX_QUEUED_BATCHES = 64;
/** Sidecars whose lane is remembered (as many as a lane keeps sessions for). */
const MAX_SIDECARS = 10_000;

/** The most ingest threads started without being asked: each is a V8 isolate of its own. */
export const MAX_DEFAULT_INGEST_THREADS = 4;

/**
 * Without being asked: none on 1-2 usable CPUs (its container's CPU limit counts), else one per
 * CPU but one (left to the main thread, GC and gzip), at most MAX_DEFAULT_INGEST_THREADS. On 2
 * cores the threads took 1.7x the pairs/s of the main thread alone when the forwarder had the
 * cores to itself, but cost 20% more CPU per pair and more memory beside the app and its sidecar
 * (bench/README.md): a forwarder with 2 CPUs of its own is given --ingest-threads 2.
 */
export function defaultIngestThreads(cpus = usableCpus()): number {
  return cpus <= 2 ? 0 : Math.min(cpus - 1, MAX_DEFAULT_INGEST_THREADS);
}

export interface LaneOptions {
  /** 0: everything on the main thread. */
  threads: number;
  /** Per lane; default DEFAULT_MAX_QUEUED_BATCHES. */
  maxQueuedBatches?: number;
  dlpKey: Buffer;
  grpcReflection: boolean;
  /** The main thread's policies and schemas: used by the inline lane. */
  policies: PolicyCache;
  schemas: GrpcSchemas;
  log: Logger;
}

export type LaneJob = Omit<LaneBatch, 'policies'>;

/** What an ingest thread answers per batch: the result or why it failed, and its DLP counts so far. */
export interface LaneReply {
  id: number;
  result?: LaneResult;
  error?: string;
  masked: Record<string, number>;
  unscanned: number;
}

export interface IngestLanes {
  run(job: LaneJob, policies: Policy[]): Promise<LaneResult>;
  /** Values masked and bodies left unscanned on ingest threads (the inline lane's are the policies'). */
  maskedTotals(): Record<string, number>;
  unscannedTotal(): number;
  /** Batches refused because a lane's queue was full. */
  readonly busyRefusals: number;
  close(): Promise<void>;
}

export function createLanes(opts: LaneOptions): IngestLanes {
  return opts.threads > 0 ? new ThreadLanes(opts) : new InlineLane(opts);
}

const described = (p: Policy): LanePolicy => ({
  key: p.key,
  rules: { filters: p.filterRules, dlp: p.dlpRules },
});

class InlineLane implements IngestLanes {
  private readonly lane: LaneIngest;
  readonly busyRefusals = 0;

  constructor(opts: LaneOptions) {
    this.lane = new LaneIngest(new TapSessions(), opts.policies, opts.schemas);
  }

  run(job: LaneJob, policies: Policy[]): Promise<LaneResult> {
    return this.lane.run({ ...job, policies: policies.map(described) });
  }

  maskedTotals(): Record<string, number> {
    return {};
  }

  unscannedTotal(): number {
    return 0;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

interface Waiting {
  resolve(r: LaneResult): void;
  reject(err: Error): void;
}

/** One ingest thread: its batches in flight, the policies it knows, its DLP counts. */
class ThreadLane {
  private worker!: Worker;
  private readonly waiting = new Map<number, Waiting>();
  private known = new Set<string>();
  private nextId = 0;
  private closing = false;
  sidecars = 0;
  masked: Record<string, number> = {};
  unscanned = 0;
  /** DLP counts of this lane's threads that died. */
  private readonly retired = { masked: {} as Record<string, number>, unscanned: 0 };

  constructor(
    private readonly index: number,
    private readonly opts: LaneOptions,
  ) {
    this.start();
  }

  get queued(): number {
    return this.waiting.size;
  }

  run(job: LaneJob, policies: Policy[]): Promise<LaneResult> {
    const lanePolicies = policies.map((p) => (this.known.has(p.key) ? { key: p.key } : described(p)));
    for (const p of policies) this.known.add(p.key);
    const id = ++this.nextId;
    return new Promise<LaneResult>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ id, batch: { ...job, policies: lanePolicies } });
    });
  }

  totals(): { masked: Record<string, number>; unscanned: number } {
    return {
      masked: addCounts({ ...this.retired.masked }, this.masked),
      unscanned: this.retired.unscanned + this.unscanned,
    };
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.worker.terminate();
  }

  private start(): void {
    const worker = new Worker(new URL('./lane-worker.js', import.meta.url), {
      workerData: { dlpKey: this.opts.dlpKey, grpcReflection: this.opts.grpcReflection },
    });
    this.worker = worker;
    this.known = new Set();
    worker.on('message', (reply: LaneReply) => {
      this.masked = reply.masked;
      this.unscanned = reply.unscanned;
      const w = this.waiting.get(reply.id);
      if (!w) return;
      this.waiting.delete(reply.id);
      if (reply.result) w.resolve(reply.result);
      else w.reject(new Error(`ingest thread ${this.index}: ${reply.error}`));
    });
    worker.on('error', (err) => this.opts.log.error({ err, lane: this.index }, 'ingest thread failed'));
    worker.on('exit', (code) => {
      if (this.closing) return;
      this.opts.log.error({ code, lane: this.index }, 'ingest thread exited; starting it again');
      addCounts(this.retired.masked, this.masked);
      this.retired.unscanned += this.unscanned;
      this.masked = {};
      this.unscanned = 0;
      const lost = [...this.waiting.values()];
      this.waiting.clear();
      for (const w of lost)
        w.reject(new HttpError(503, 'the ingest thread of this batch stopped; send it again'));
      this.start();
    });
  }
}

class ThreadLanes implements IngestLanes {
  private readonly lanes: ThreadLane[];
  /** Sidecar id -> its lane, least recently used first. */
  private readonly assigned = new Map<string, ThreadLane>();
  private readonly maxQueued: number;
  busyRefusals = 0;

  constructor(opts: LaneOptions) {
    this.lanes = Array.from({ length: opts.threads }, (_, i) => new ThreadLane(i, opts));
    this.maxQueued = opts.maxQueuedBatches ?? DEFAULT_MAX_QUEUED_BATCHES;
  }

  run(job: LaneJob, policies: Policy[]): Promise<LaneResult> {
    const lane = this.laneOf(job.sidecarId);
    if (lane.queued >= this.maxQueued) {
      this.busyRefusals++;
      return Promise.reject(
        new HttpError(503, `ingest lane busy (${this.maxQueued} batches queued); send the batch again`),
      );
    }
    return lane.run(job, policies);
  }

  private laneOf(sidecarId: string): ThreadLane {
    let lane = this.assigned.get(sidecarId);
    if (lane) {
      this.assigned.delete(sidecarId);
    } else {
      lane = this.lanes.reduce((a, b) => (b.sidecars < a.sidecars ? b : a));
      lane.sidecars++;
      if (this.assigned.size >= MAX_SIDECARS) {
        const [oldest, its] = this.assigned.entries().next().value!;
        this.assigned.delete(oldest);
        its.sidecars--;
      }
    }
    this.assigned.set(sidecarId, lane);
    return lane;
  }

  maskedTotals(): Record<string, number> {
    const totals: Record<string, number> = {};
    for (const lane of this.lanes) addCounts(totals, lane.totals().masked);
    return totals;
  }

  unscannedTotal(): number {
    return this.lanes.reduce((n, lane) => n + lane.totals().unscanned, 0);
  }

  async close(): Promise<void> {
    await Promise.all(this.lanes.map((l) => l.close()));
  }
}
