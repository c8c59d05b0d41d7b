/**
 * The Kubernetes runtime of a replay: the responder is a Deployment + Service and the generator
 * a Job in Reprise's namespace, created per replay with deterministic names and labelled with
 * the replay id; the service under test is the user's workload, patched so its outbound traffic
 * reaches the responder and restored exactly afterwards. Pods read the snapshot from the
 * forwarder's snapshot API and upload what they observed there, into the store this runtime
 * shares with the forwarder (`home`).
 *
 * Idempotent everywhere: a retry or a new worker finds the objects by name (409 on create and
 * 404 on delete are success), and the workload's original pod template is kept in a ConfigMap
 * labelled with the replay id until cleanup.
 */
import type { ResponderStats } from '../../../src/model/replay.js';
import type { ComponentLogs, GeneratorProgress, ReplayRef, ReplayRuntime } from '../../runtime.js';
import type { RuntimeContext } from '../../runtime.js';
import { startApp, stopApp } from './app.js';
import { cleanup } from './cleanup.js';
import { ReplayCluster, type KubeReplayRuntimeOptions } from './cluster.js';
import { collectLogs, startCollector } from './collector.js';
import { generatorProgress, runGenerator } from './generator.js';
import { responderStats, startResponder, stopResponder } from './responder.js';

export type { KubeReplayRuntimeOptions };

export class KubeReplayRuntime implements ReplayRuntime {
  private readonly k: ReplayCluster;

  constructor(readonly options: KubeReplayRuntimeOptions) {
    this.k = new ReplayCluster(options);
  }

  observedPath(replayId: string): string {
    return this.k.observedPath(replayId);
  }

  startResponder(req: Parameters<ReplayRuntime['startResponder']>[0], ctx: RuntimeContext) {
    return startResponder(this.k, req, ctx);
  }

  responderStats(req: ReplayRef, ctx: RuntimeContext): Promise<ResponderStats | undefined> {
    return responderStats(this.k, req, ctx);
  }

  stopResponder(req: ReplayRef, ctx: RuntimeContext): Promise<void> {
    return stopResponder(this.k, req, ctx);
  }

  startCollector(req: ReplayRef, ctx: RuntimeContext): Promise<void> {
    return startCollector(this.k, req, ctx);
  }

  /** The window is closed by collecting; cleanup removes the marker with the rest. */
  async stopCollector(): Promise<void> {}

  collectLogs(req: ReplayRef, ctx: RuntimeContext): Promise<ComponentLogs[]> {
    return collectLogs(this.k, req, ctx);
  }

  startApp(req: Parameters<ReplayRuntime['startApp']>[0], ctx: RuntimeContext) {
    return startApp(this.k, req, ctx);
  }

  stopApp(req: ReplayRef, ctx: RuntimeContext): Promise<void> {
    return stopApp(this.k, req, ctx);
  }

  runGenerator(req: Parameters<ReplayRuntime['runGenerator']>[0], ctx: RuntimeContext) {
    return runGenerator(this.k, req, ctx);
  }

  generatorProgress(
    req: Parameters<ReplayRuntime['generatorProgress']>[0],
    ctx: RuntimeContext,
  ): Promise<GeneratorProgress | undefined> {
    return generatorProgress(this.k, req, ctx);
  }

  cleanup(req: Parameters<ReplayRuntime['cleanup']>[0], ctx: RuntimeContext) {
    return cleanup(this.k, req, ctx);
  }
}
