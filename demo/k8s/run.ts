/**
 * `npm run demo:k8s`: the Java demo in the local cluster with a real node, end to end.
 *  1. Images: Reprise (`npm run image`), the Java demo (java-server, java-client, payments),
 *     the init container's iptables; cached under .tools.
 *  2. The dev cluster in .cluster (started detached, or reused), a Temporal server beside it,
 *     the chart installed.
 *  3. payments (HTTPS, self-signed) and java-server in `reprise-demo`; captureWorkflow injects
 *     the sidecar into the running java-server pod; a java-client Job drives traffic.
 *  4. payments is stopped; a TrafficReplay replays the snapshot against java-server with the
 *     responder answering its HTTPS calls; the verdict comes back on the resource.
 * DEMO_BROKEN=field deploys, after the capture, a java-server whose answers differ in one field:
 * the verdict is then Missed Goals. Exit 0 on Passed, else 1 with a one-line reason. The
 * cluster stays up for a person to look at (`npm run cluster:down` removes it).
 *
 *   node dist/demo/k8s/run.js [--dir DIR] [--result FILE]
 */
import { writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { projectRoot } from '../../src/base/project-root.js';
import { applyObjects, deployDemo, DEMO_NS, javaServer, kubectlOk, SERVER } from './app.js';
import { captureJavaServer } from './capture.js';
import { ensureDemoCluster, installChart } from './cluster.js';
import { ensureDemoImages } from './images.js';
import { replayJavaServer, stopPayments } from './replay.js';
import { forwarderUrl, snapshotEndpoints } from './snapshot.js';
import { ensureClusterTemporal } from './temporal.js';
import type { DemoResult } from './result.js';

const say = (line: string) => process.stdout.write(line + '\n');
const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(0)} s`;

function options() {
  let values: { dir?: string; result?: string };
  try {
    ({ values } = parseArgs({ options: { dir: { type: 'string' }, result: { type: 'string' } } }));
  } catch (err) {
    throw new UsageError(`${(err as Error).message} (usage: demo:k8s [--dir DIR] [--result FILE])`);
  }
  const broken = process.env.DEMO_BROKEN ?? '';
  if (broken !== '' && broken !== 'field')
    throw new UsageError(`DEMO_BROKEN: expected "field" (or unset), got "${broken}"`);
  return {
    dir: path.resolve(values.dir ?? path.join(projectRoot, '.cluster')),
    result: values.result,
    broken: broken === 'field',
  };
}

class UsageError extends Error {}

async function main(): Promise<number> {
  const opts = options();
  const began = Date.now();
  const runId = new Date().toISOString().replace(/\D/g, '').slice(4, 14);
  say(`images: building or reusing Reprise's and the Java demo's (cached under .tools)`);
  const images = ensureDemoImages();
  say(`images ready in ${seconds(began)}: ${images.reprise.name}, ${images.java}`);
  const { cluster, started, repriseChanged } = await ensureDemoCluster(opts.dir, images, say);
  const temporal = await ensureClusterTemporal(cluster);
  say(`cluster ${started ? 'started' : 'reused'} (${opts.dir}); Temporal ${temporal.address}`);
  await installChart(cluster, images, temporal.podAddress, repriseChanged);
  say(`chart installed in reprise-system (${seconds(began)})`);
  await deployDemo(cluster, images.java, images.javaBuild, false);
  say(`payments and java-server deployed in ${DEMO_NS} (${seconds(began)})`);

  const connection = await Connection.connect({ address: temporal.address });
  try {
    const client = new Client({ connection });
    const capture = await captureJavaServer(client, cluster, images.java, runId, say);
    say(`\n$ kubectl get pods -n ${DEMO_NS}    (while capturing)\n${capture.pods.trimEnd()}`);
    const r = capture.result;
    say(
      `\njava-client: ${capture.client.requests} requests, ${capture.client.failures} failures` +
        `\nsnapshot ${r.snapshotId}: ${r.pairs} pairs (${r.inbound} inbound, ${r.outbound} outbound), ${r.dropped} dropped`,
    );
    const forwarder = await forwarderUrl(cluster);
    const endpoints = await snapshotEndpoints(forwarder, r.snapshotId);
    endpoints.sort((a, b) => a.direction.localeCompare(b.direction) || b.count - a.count);
    for (const e of endpoints)
      say(`  ${e.direction.padEnd(8)} ${e.method.padEnd(5)} ${e.host}${e.path}  x${e.count}`);
    say('bearer token, card numbers and emails were masked before storage');

    if (opts.broken) {
      say(`\nDEMO_BROKEN=field: deploying a java-server build that reports a wrong totalCents`);
      await applyObjects(cluster, [javaServer(images.java, true)]);
      await kubectlOk(cluster, ['rollout', 'status', `deploy/${SERVER}`, '-n', DEMO_NS, '--timeout=240s']);
    }
    await stopPayments(cluster);
    say(`\npayments stopped (scaled to 0); replaying with the responder answering java-server's HTTPS calls`);
    const replay = await replayJavaServer(cluster, r.snapshotId, runId, path.join(opts.dir, 'reports'));
    say(`\n${replay.pods}`);
    say('(no collector pod: the capture sidecar sent pairs to the forwarder, which runs all the time)');
    const verdict = replay.status.verdict ?? 'none';
    say(`\nverdict: ${verdict}   (TrafficReplay ${DEMO_NS}/${replay.name})`);
    if (replay.reason) say(`  ${replay.reason}`);
    for (const f of replay.failedFields) say(`  differs: ${f}`);
    say(
      `report: ${replay.reportDir ? path.join(replay.reportDir, 'report.html') : 'none'} (in the orchestrator: ${replay.status.reportPath ?? 'none'})`,
    );
    say(`Temporal UI: ${temporal.uiUrl}  (capture ${capture.workflowId})`);
    say(`the cluster keeps running (KUBECONFIG=${cluster.kubeconfigPath}); npm run cluster:down removes it`);
    say(`demo:k8s took ${seconds(began)}`);
    const result: DemoResult = {
      dir: opts.dir,
      broken: opts.broken,
      snapshotId: r.snapshotId,
      capture: r,
      client: capture.client,
      capturePods: capture.pods,
      replayPods: replay.pods,
      replayRan: replay.ran,
      replay: replay.name,
      status: replay.status,
      reportDir: replay.reportDir,
      failedFields: replay.failedFields,
      forwarderUrl: forwarder,
      temporalUi: temporal.uiUrl,
    };
    if (opts.result) await writeFile(opts.result, JSON.stringify(result, null, 2) + '\n');
    if (verdict === 'Passed') return 0;
    const fields = replay.failedFields.length ? `; differing: ${replay.failedFields.join(', ')}` : '';
    const reason = (replay.reason ?? 'no report').replace(/^Missed: /, '').replace(/\.$/, '');
    process.stderr.write(`demo:k8s: the replay's verdict is ${verdict}: ${reason}${fields}\n`);
    return 1;
  } finally {
    await connection.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    const e = err as Error;
    // One line; the rest (kubectl's or helm's words, a log tail) goes to a file it names.
    let details = '';
    if (e.message.includes('\n') || e.stack) {
      const file = path.join(tmpdir(), 'reprise-demo-k8s-error.log');
      writeFileSync(file, `${e.stack ?? e.message}\n`);
      details = ` (details: ${file})`;
    }
    process.stderr.write(
      `demo:k8s failed: ${e.message.split('\n')[0]}${err instanceof UsageError ? '' : details}\n`,
    );
    process.exit(err instanceof UsageError ? 2 : 1);
  },
);
