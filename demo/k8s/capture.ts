/**
 * The capture step: captureWorkflow with java-server as its workload (the operator's webhook
 * injects the sidecar into the running pod; the JVM's outbound HTTPS goes through it by the
 * java annotation), java-client driving traffic, then the stop signal seals the snapshot.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import type { CaptureInput, CaptureProgress, CaptureResult } from '../../src/config/capture.js';
import { TASK_QUEUE } from '../../src/temporal/index.js';
import type { AttachedCluster } from '../../tools/dev-cluster/attach.js';
import { APP_PORT, DEMO_NS, kubectlOk, runClient, SERVER, type ClientSummary } from './app.js';

/** java-client's mix: of every 7 requests, 2 quotes (a rate each) and 2 orders (a charge each). */
export const CLIENT_REQUESTS = 14;
export const EXPECTED_OUTBOUND = (CLIENT_REQUESTS / 7) * 4;

export interface CaptureStep {
  workflowId: string;
  result: CaptureResult;
  client: ClientSummary;
  /** `kubectl get pods -n reprise-demo` while capturing. */
  pods: string;
}

export async function captureJavaServer(
  temporal: Client,
  cluster: AttachedCluster,
  image: string,
  runId: string,
  say: (line: string) => void,
): Promise<CaptureStep> {
  const input: CaptureInput = {
    service: SERVER,
    target: {
      appPort: APP_PORT,
      tlsIntercept: true,
      workload: { name: SERVER, namespace: DEMO_NS },
    },
  };
  const workflowId = `demo-k8s-capture-${runId}`;
  const handle = await temporal.workflow.start('captureWorkflow', {
    taskQueue: TASK_QUEUE,
    workflowId,
    args: [input],
  });
  say(`capture: workflow ${workflowId} started; the webhook injects the sidecar into ${SERVER}`);
  for (const deadline = Date.now() + 240_000; ; await delay(500)) {
    const p = await handle.query<CaptureProgress>('progress');
    if (p.phase === 'capturing') break;
    if (p.phase !== 'starting' || Date.now() > deadline) {
      const failed = await handle.result().then(
        () => `ended in phase ${p.phase}`,
        (err: unknown) => (err as Error).cause?.toString() ?? (err as Error).message,
      );
      throw new Error(`the capture did not start: ${failed}`);
    }
  }
  // The pod the injection replaced takes a moment to go: list once only the injected one is left.
  for (const deadline = Date.now() + 60_000; Date.now() < deadline; await delay(500)) {
    const names = await kubectlOk(cluster, [
      'get',
      'pods',
      '-n',
      DEMO_NS,
      '-l',
      `app=${SERVER}`,
      '-o',
      'name',
    ]);
    if (names.trim().split('\n').length === 1) break;
  }
  const pods = await kubectlOk(cluster, ['get', 'pods', '-n', DEMO_NS]);
  const client = await runClient(cluster, image, `java-client-${runId}`, CLIENT_REQUESTS);
  const want = CLIENT_REQUESTS + EXPECTED_OUTBOUND;
  // The sidecar ships in batches: stop once the forwarder holds every pair (or after a bound).
  for (const deadline = Date.now() + 60_000; ; await delay(500)) {
    const p = await handle.query<CaptureProgress>('progress');
    if (p.pairs >= want || Date.now() > deadline) break;
  }
  await handle.signal('stop');
  const result = (await handle.result()) as CaptureResult;
  return { workflowId, result, client, pods };
}
