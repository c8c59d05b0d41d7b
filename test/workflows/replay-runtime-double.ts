/**
 * A test double for ReplayRuntime: records what replayWorkflow asks of it instead of starting a
 * responder, an app or a generator. One step can be made to fail, or to hold until cancelled
 * (heartbeating, as the real runtimes do while they wait) and then take a moment to stop, as a
 * start that must undo what it began does.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import { RuntimeError, type ReplayRuntime, type RuntimeContext } from '../../activities/runtime.js';
import { observedFile } from '../../src/base/paths.js';
import type { GeneratorSummary } from '../../src/generator/index.js';
import type { ObservedExchange } from '../../src/model/replay.js';

export type ReplayStep = Exclude<keyof ReplayRuntime, 'observedPath'>;

/** What a held step takes to stop once cancelled: teardown must not start before it has. */
const HELD_STOP_MS = 500;
/** A held step gives up after this long: a test that never cancels it fails instead of hanging. */
const HOLD_LIMIT_MS = 60_000;
const URLS = { responder: 'http://127.0.0.1:4001', app: 'http://127.0.0.1:4002' };

export class ReplayRuntimeDouble implements ReplayRuntime {
  /** Every call in order, and `<step> stopped` when a held step saw its cancellation and returned. */
  events: string[] = [];
  /** The last request each step was given. */
  readonly requests = new Map<ReplayStep, unknown>();
  failing?: ReplayStep;
  holding?: ReplayStep;
  private waiters: { step: string; resolve: () => void }[] = [];

  /**
   * `observed`: what runGenerator "saw", written where the analyzer reads it (the replay results
   * of the file store under `home`, the worker's REPRISE_HOME), so a replay that runs to the end
   * has a report made from real analysis.
   */
  constructor(
    private readonly home: string,
    private readonly observed: ObservedExchange[],
  ) {}

  reset(): void {
    this.events = [];
    this.requests.clear();
    this.failing = undefined;
    this.holding = undefined;
  }

  /** Resolves once `step` was called (or a `<step> stopped` event happened). */
  reached(step: string): Promise<void> {
    if (this.events.includes(step)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ step, resolve }));
  }

  /** The calls, without the progress polls (their number depends on timing). */
  steps(): string[] {
    return this.events.filter((e) => e !== 'generatorProgress');
  }

  private record(event: string): void {
    this.events.push(event);
    for (const w of this.waiters.filter((x) => x.step === event)) w.resolve();
    this.waiters = this.waiters.filter((x) => x.step !== event);
  }

  private async step<T>(name: ReplayStep, req: unknown, ctx: RuntimeContext, value: T): Promise<T> {
    this.requests.set(name, req);
    this.record(name);
    if (this.failing === name) throw new RuntimeError(`${name} refused`, 'TestRefusal');
    if (this.holding === name) {
      const until = Date.now() + HOLD_LIMIT_MS;
      while (!ctx.signal.aborted && Date.now() < until) {
        ctx.heartbeat();
        await delay(50);
      }
      await delay(HELD_STOP_MS);
      this.record(`${name} stopped`);
      throw new RuntimeError(`${name} stopped`, ctx.signal.aborted ? 'Cancelled' : 'NeverCancelled');
    }
    return value;
  }

  startResponder(req: unknown, ctx: RuntimeContext) {
    return this.step('startResponder', req, ctx, { url: URLS.responder });
  }
  responderStats(req: unknown, ctx: RuntimeContext) {
    return this.step('responderStats', req, ctx, {
      match: 7,
      noMatch: 1,
      passthrough: 0,
      misses: [],
      missesDropped: 0,
    });
  }
  stopResponder(req: unknown, ctx: RuntimeContext) {
    return this.step('stopResponder', req, ctx, undefined);
  }
  startCollector(req: unknown, ctx: RuntimeContext) {
    return this.step('startCollector', req, ctx, undefined);
  }
  collectLogs(req: unknown, ctx: RuntimeContext) {
    return this.step('collectLogs', req, ctx, []);
  }
  stopCollector(req: unknown, ctx: RuntimeContext) {
    return this.step('stopCollector', req, ctx, undefined);
  }
  startApp(req: unknown, ctx: RuntimeContext) {
    return this.step('startApp', req, ctx, { targetUrl: URLS.app });
  }
  stopApp(req: unknown, ctx: RuntimeContext) {
    return this.step('stopApp', req, ctx, undefined);
  }
  async runGenerator(req: { replayId: string; targetUrl: string }, ctx: RuntimeContext) {
    const file = this.observedPath(req.replayId);
    const summary = await this.step(
      'runGenerator',
      req,
      ctx,
      generatorSummary(req.targetUrl, file, this.observed.length),
    );
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, gzipSync(this.observed.map((o) => JSON.stringify(o) + '\n').join('')));
    return summary;
  }
  generatorProgress(req: unknown, ctx: RuntimeContext) {
    return this.step('generatorProgress', req, ctx, { sent: 2, done: 1, errors: 0 });
  }
  cleanup(req: unknown, ctx: RuntimeContext) {
    return this.step('cleanup', req, ctx, undefined);
  }
  observedPath(replayId: string): string {
    return observedFile(this.home, replayId);
  }
}

export const DOUBLE_URLS = URLS;

/** What the generator reports after sending `n` requests that were all answered. */
function generatorSummary(target: string, observedPath: string, n: number): GeneratorSummary {
  return {
    canceled: false,
    startedAt: new Date().toISOString(),
    target,
    recorded: n,
    requests: n,
    responses: n,
    errors: 0,
    timeouts: 0,
    errorsByKind: {},
    durationMs: 30,
    rps: 100,
    latency: { min: 1, mean: 1, p50: 1, p75: 1, p90: 1, p95: 1, p99: 1, max: 1 },
    perSecond: [],
    statusCounts: { '200': n },
    passes: 1,
    observedPath,
  };
}
