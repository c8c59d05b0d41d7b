/**
 * The TrafficReplay controller: an informer (list + watch, restarted on error, resynced on a
 * timer) feeds a keyed work queue; each reconcile reads the resource fresh and moves it one
 * step: finalizer, start replayWorkflow (workflow id = the resource's uid, so a restarted
 * operator finds the same run), mirror the workflow's phase/progress/result into status, and on
 * deletion cancel the workflow, wait for its teardown, then release the finalizer.
 * Failures are retried with exponential backoff, a bounded number of times, and counted in
 * status.reconcileFailures.
 */
import {
  makeInformer,
  type Informer,
  type KubeConfig,
  type KubernetesObject,
  type ObjectCache,
} from '@kubernetes/client-node';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import type { Logger } from 'pino';
import { parseDuration } from '../../base/duration.js';
import type { ReplayProgress, ReplayResult } from '../../config/replay.js';
import { childLog } from '../../base/log.js';
import { TASK_QUEUE } from '../../temporal/names.js';
import { TRAFFIC_REPLAY } from '../api/annotations.js';
import { apiMessage } from '../client/client-node.js';
import { checkSpec, toReplayInput, type TrafficReplay } from '../api/traffic-replay.js';
import { statusFor, VERDICTS } from './status.js';
import { TrafficReplays } from './traffic-replays.js';

export const REPLAY_WORKFLOW_TYPE = 'replayWorkflow';

export interface ControllerOptions {
  kc: KubeConfig;
  temporal: Client;
  /** Every resource is reconciled again this often, events or not. */
  resyncMs?: number;
  /** How often a running replay's progress is read into status. */
  pollMs?: number;
  /** Consecutive failures of one resource before the controller waits for the next event or resync. */
  maxRetries?: number;
  /** How long a deleted resource waits for its workflow's teardown before its finalizer goes anyway. */
  deleteTimeoutMs?: number;
  log?: Logger;
}

type Result = { requeueMs?: number };

const keyOf = (o: { metadata?: { namespace?: string; name?: string } }) =>
  `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

export class TrafficReplayController {
  private readonly replays: TrafficReplays;
  private readonly log: Logger;
  private readonly resyncMs: number;
  private readonly pollMs: number;
  private readonly maxRetries: number;
  private readonly deleteTimeoutMs: number;
  private informer?: Informer<KubernetesObject> & ObjectCache<KubernetesObject>;
  private readonly timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private readonly running = new Map<string, Promise<void>>();
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly cancelSent = new Set<string>();
  private resync?: NodeJS.Timeout;
  private restart?: NodeJS.Timeout;
  private informerFailures = 0;
  private stopped = false;
  /** True once the first list has been read: /readyz waits for it. */
  synced = false;

  constructor(private readonly opts: ControllerOptions) {
    this.replays = new TrafficReplays(opts.kc);
    this.log = opts.log ?? childLog('controller');
    this.resyncMs = opts.resyncMs ?? 5 * 60_000;
    this.pollMs = opts.pollMs ?? 2_000;
    this.maxRetries = opts.maxRetries ?? 8;
    this.deleteTimeoutMs = opts.deleteTimeoutMs ?? 15 * 60_000;
  }

  async start(): Promise<void> {
    const { group, version, plural } = TRAFFIC_REPLAY;
    const informer = makeInformer<KubernetesObject>(this.opts.kc, `/apis/${group}/${version}/${plural}`, () =>
      this.replays.list(),
    );
    this.informer = informer;
    const enqueue = (o: KubernetesObject) => this.enqueue(keyOf(o), 0);
    informer.on('add', enqueue);
    informer.on('update', enqueue);
    informer.on('connect', () => {
      this.informerFailures = 0;
    });
    informer.on('error', (err: unknown) => this.reconnect(err));
    this.resync = setInterval(() => {
      for (const o of informer.list()) this.enqueue(keyOf(o), 0);
    }, this.resyncMs);
    this.resync.unref();
    // start() resolves once the first list is in the cache and the watch is open.
    await informer.start().then(
      () => (this.synced = true),
      (err: unknown) => this.reconnect(err),
    );
  }

  /** The watch ended in an error (API server restart, network): start again after a backoff. */
  private reconnect(err: unknown): void {
    if (this.stopped || this.restart) return;
    const delay = Math.min(30_000, 500 * 2 ** this.informerFailures++);
    this.log.warn({ err: apiMessage(err), retryInMs: delay }, 'TrafficReplay watch failed; reconnecting');
    this.restart = setTimeout(() => {
      this.restart = undefined;
      void this.informer?.start().then(
        () => (this.synced = true),
        (e: unknown) => this.reconnect(e),
      );
    }, delay);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.resync);
    clearTimeout(this.restart);
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    await this.informer?.stop();
    await Promise.allSettled([...this.running.values()]);
  }

  /** Runs `key` after `delayMs`, unless it is already due sooner. */
  enqueue(key: string, delayMs: number): void {
    if (this.stopped) return;
    const at = Date.now() + delayMs;
    const existing = this.timers.get(key);
    if (existing && existing.at <= at) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.run(key);
    }, delayMs);
    this.timers.set(key, { at, timer });
  }

  /** One reconcile per key at a time; an event during it runs it once more afterwards. */
  private run(key: string): void {
    if (this.running.has(key)) {
      this.dirty.add(key);
      return;
    }
    const p = this.reconcileKey(key).finally(() => {
      this.running.delete(key);
      if (this.dirty.delete(key)) this.enqueue(key, 0);
    });
    this.running.set(key, p);
  }

  private async reconcileKey(key: string): Promise<void> {
    const [namespace, name] = key.split('/');
    try {
      const result = await this.reconcile(namespace, name);
      this.failures.delete(key);
      if (result.requeueMs !== undefined) this.enqueue(key, result.requeueMs);
    } catch (err) {
      const n = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, n);
      const message = apiMessage(err);
      await this.replays
        .patchStatus(namespace, name, {
          reconcileFailures: n,
          message: `reconcile failed: ${message}`,
        })
        .catch(() => undefined);
      if (n > this.maxRetries) {
        // Bounded: the next watch event or the resync tries again.
        this.log.error(
          { key, failures: n, err: message },
          'reconcile keeps failing; waiting for the next event',
        );
        this.failures.delete(key);
        return;
      }
      const delay = Math.min(60_000, 1000 * 2 ** (n - 1));
      this.log.warn({ key, failures: n, retryInMs: delay, err: message }, 'reconcile failed');
      this.enqueue(key, delay);
    }
  }

  private handle(cr: TrafficReplay): WorkflowHandle {
    return this.opts.temporal.workflow.getHandle(cr.metadata.uid!);
  }

  private async describe(cr: TrafficReplay) {
    try {
      return await this.handle(cr).describe();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    }
  }

  async reconcile(namespace: string, name: string): Promise<Result> {
    const cr = await this.replays.get(namespace, name);
    if (!cr) {
      this.cancelSent.delete(`${namespace}/${name}`);
      return {};
    }
    const finalizers = cr.metadata.finalizers ?? [];
    if (cr.metadata.deletionTimestamp) return this.finalize(cr);
    if (!finalizers.includes(TRAFFIC_REPLAY.finalizer)) {
      await this.replays.patchMeta(cr, { finalizers: [...finalizers, TRAFFIC_REPLAY.finalizer] });
      return { requeueMs: 0 };
    }
    const now = new Date().toISOString();
    const status = cr.status ?? {};
    if (status.verdict) return this.expire(cr);

    const description = await this.describe(cr);
    if (!description) {
      if (status.workflowId) {
        await this.replays.writeStatus(
          cr,
          statusFor(
            cr,
            { phase: 'Error', message: `workflow ${status.workflowId} not found in Temporal` },
            now,
          ),
        );
        return {};
      }
      const problems = checkSpec(cr.spec);
      if (problems.length) {
        // The validating webhook was bypassed (or the schema moved on): say why, start nothing.
        await this.replays.writeStatus(cr, {
          ...statusFor(cr, { phase: 'Error', message: problems.join('; ') }, now),
          active: false,
        });
        return {};
      }
      try {
        await this.opts.temporal.workflow.start(REPLAY_WORKFLOW_TYPE, {
          taskQueue: TASK_QUEUE,
          workflowId: cr.metadata.uid!,
          args: [toReplayInput(cr)],
          // A finished run with this id means this resource already ran: never a second run.
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
          memo: { trafficReplay: `${namespace}/${name}` },
        });
        this.log.info({ namespace, name, workflowId: cr.metadata.uid }, 'replay workflow started');
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      }
      await this.replays.writeStatus(cr, {
        ...statusFor(cr, { phase: 'Initializing' }, now),
        workflowId: cr.metadata.uid,
        startedTime: status.startedTime ?? now,
        reconcileFailures: status.reconcileFailures ?? 0,
      });
      return { requeueMs: this.pollMs };
    }

    const base = {
      workflowId: description.workflowId,
      startedTime: status.startedTime ?? description.startTime.toISOString(),
    };
    if (description.status.name === 'RUNNING') {
      const handle = this.handle(cr);
      const progress = await withTimeout(handle.query<ReplayProgress>('progress'), 5_000).catch(
        () => undefined,
      );
      // No worker answers the query: keep what status says and look again later.
      if (progress) {
        const { phase: queried, ...counts } = progress;
        // The verdict goes on the status with the result (report path, counts): until the
        // workflow has closed, a verdict phase is still the end of the analysis.
        const phase = VERDICTS.includes(queried) ? 'Analyzing' : queried;
        await this.replays.writeStatus(cr, { ...statusFor(cr, { phase, progress: counts }, now), ...base });
      } else if (!status.workflowId) {
        await this.replays.writeStatus(cr, { ...statusFor(cr, { phase: 'Initializing' }, now), ...base });
      }
      return { requeueMs: this.pollMs };
    }

    const finishedAt = description.closeTime?.toISOString();
    let step: Parameters<typeof statusFor>[1];
    if (description.status.name === 'COMPLETED') {
      const result = (await this.handle(cr).result()) as ReplayResult;
      step = {
        phase: result.verdict,
        result,
        finishedAt,
        progress: {
          sent: result.requests,
          done: result.requests,
          errors: result.errors,
          ...(status.progress?.total !== undefined ? { total: status.progress.total } : {}),
        },
      };
    } else if (description.status.name === 'CANCELLED') {
      step = { phase: 'Canceled', finishedAt, message: 'the workflow was cancelled' };
    } else {
      const message = await this.handle(cr)
        .result()
        .then(
          () => description.status.name,
          (err: Error) => (err.cause as Error | undefined)?.message ?? err.message,
        );
      step = {
        phase: 'Error',
        finishedAt,
        message: `workflow ${description.status.name.toLowerCase()}: ${message}`,
      };
    }
    await this.replays.writeStatus(cr, { ...statusFor(cr, step, now), ...base });
    this.log.info({ namespace, name, verdict: step.phase }, 'replay finished');
    return this.expireAfter(cr, step.finishedAt ?? now);
  }

  /** ttlAfterReady: the finished resource is deleted once its time is up. */
  private async expire(cr: TrafficReplay): Promise<Result> {
    return this.expireAfter(cr, cr.status?.finishedTime);
  }

  private async expireAfter(cr: TrafficReplay, finishedTime: string | undefined): Promise<Result> {
    const ttl = cr.spec.ttlAfterReady ? parseDuration(cr.spec.ttlAfterReady) : undefined;
    if (ttl === undefined || !finishedTime) return {};
    const left = Date.parse(finishedTime) + ttl - Date.now();
    if (left > 0) return { requeueMs: left };
    await this.replays.delete(cr);
    this.log.info(
      { namespace: cr.metadata.namespace, name: cr.metadata.name },
      'deleted after ttlAfterReady',
    );
    return {};
  }

  /** Deleted: cancel the workflow, wait for its teardown, then let the resource go. */
  private async finalize(cr: TrafficReplay): Promise<Result> {
    const finalizers = cr.metadata.finalizers ?? [];
    if (!finalizers.includes(TRAFFIC_REPLAY.finalizer)) return {};
    const key = keyOf(cr);
    const description = await this.describe(cr);
    if (description?.status.name === 'RUNNING') {
      const waited = Date.now() - new Date(cr.metadata.deletionTimestamp!).getTime();
      if (waited < this.deleteTimeoutMs) {
        if (!this.cancelSent.has(key)) {
          await this.handle(cr).signal('cancel');
          this.cancelSent.add(key);
          this.log.info(
            { key, workflowId: description.workflowId },
            'deleted: replay cancelled, waiting for its teardown',
          );
          await this.replays
            .writeStatus(cr, {
              ...(cr.status ?? {}),
              message: 'deleting: cancelled the replay, waiting for its teardown',
            })
            .catch(() => undefined);
        }
        return { requeueMs: this.pollMs };
      }
      this.log.error(
        { key, waitedMs: waited },
        'the replay did not finish its teardown in time; releasing the resource anyway',
      );
    }
    await this.replays.patchMeta(cr, {
      finalizers: finalizers.filter((f) => f !== TRAFFIC_REPLAY.finalizer),
    });
    this.cancelSent.delete(key);
    this.log.info({ key }, 'finalizer removed');
    return {};
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
