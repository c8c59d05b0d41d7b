/**
 * What a TrafficReplay controller test runs against: a dev cluster with the CRD, a Temporal dev
 * server with an orchestrator worker, an items snapshot in the worker's store, a counting app to
 * replay to, and a serving certificate for the operators the test starts.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startDevCluster, type DevCluster } from '../../tools/dev-cluster/index.js';
import { createOrchestratorWorker } from '../../workers/orchestrator.js';
import { startCountingApp, writeItemsSnapshot, type CountingApp } from '../helpers/replay-fixtures.js';
import { startTemporal } from '../workflows/harness.js';
import { installCrd, writeServingCert } from './operator-harness.js';

export interface ControllerBed {
  dir: string;
  home: string;
  cluster: DevCluster;
  temporal: TestWorkflowEnvironment;
  snapshotId: string;
  app: CountingApp;
  tlsDir: string;
  /** Stops the worker, Temporal, the app and the cluster (operators first: the test's own). */
  stop(): Promise<void>;
}

export async function startControllerBed(prefix: string): Promise<ControllerBed> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  const home = path.join(dir, 'home');
  const [cluster, temporal, snapshotId, app] = await Promise.all([
    startDevCluster(),
    startTemporal(),
    writeItemsSnapshot(home, 3),
    startCountingApp(),
  ]);
  const worker = await createOrchestratorWorker({
    connection: temporal.nativeConnection,
    namespace: temporal.namespace ?? 'default',
    home,
  });
  const running = worker.run();
  await installCrd(cluster);
  const { tlsDir } = await writeServingCert(dir);
  return {
    dir,
    home,
    cluster,
    temporal,
    snapshotId,
    app,
    tlsDir,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      await temporal.teardown();
      await app.close();
      await cluster.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
