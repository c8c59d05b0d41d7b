/**
 * The demo cluster's Temporal: a dev server on this machine's loopback (it works only there),
 * started as a component of the cluster (state.json records it, `npm run cluster:down` stops
 * it) with its runs in the cluster folder, and a relay so the chart's orchestrator in a pod
 * reaches it. A second demo run finds both and reuses them.
 */
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { AttachedCluster } from '../../tools/dev-cluster/attach.js';
import { logTail } from '../../tools/dev-cluster/processes.js';
import { freePorts } from '../../tools/dev-cluster/net.js';
import { ensureTemporalBinary, DEFAULT_NAMESPACE } from '../../src/temporal/index.js';
import { devServerArgs } from '../../src/temporal/dev-server.js';
import { tryConnect } from '../../src/temporal/connect.js';

export interface ClusterTemporal {
  /** 127.0.0.1:PORT, for clients on this machine. */
  address: string;
  /** The relay's address, for pods (the chart's temporal.address). */
  podAddress: string;
  uiUrl: string;
}

const NAME = 'temporal';
const READY_MS = 60_000;

export async function ensureClusterTemporal(cluster: AttachedCluster): Promise<ClusterTemporal> {
  const [port, uiPort, relay] = ['temporal', 'temporalUi', 'temporalRelay'].map((n) => cluster.port(n));
  if (cluster.component(NAME) && port && uiPort && relay && cluster.component(`relay-${relay}`))
    return view(port, uiPort, `${cluster.hostAddress}:${relay}`);
  const [newPort, newUi] = await freePorts(2);
  const entry = await cluster.launch(
    NAME,
    await ensureTemporalBinary(),
    devServerArgs({ port: newPort, uiPort: newUi, dbFile: path.join(cluster.dir, 'temporal.db') }),
  );
  const address = `127.0.0.1:${newPort}`;
  for (const deadline = Date.now() + READY_MS; ; await delay(200)) {
    const connection = await tryConnect({ address, namespace: DEFAULT_NAMESPACE }, 1_000);
    if (connection) {
      await connection.close();
      break;
    }
    if (Date.now() > deadline || !cluster.component(NAME))
      throw new Error(
        `the cluster's Temporal server did not start (log ${entry.logFile}):\n${logTail(entry.logFile)}`,
      );
  }
  const podAddress = await cluster.relay(address);
  await cluster.setPort('temporal', newPort);
  await cluster.setPort('temporalUi', newUi);
  await cluster.setPort('temporalRelay', Number(podAddress.split(':').pop()));
  return view(newPort, newUi, podAddress);
}

const view = (port: number, uiPort: number, podAddress: string): ClusterTemporal => ({
  address: `127.0.0.1:${port}`,
  podAddress,
  uiUrl: `http://127.0.0.1:${uiPort}`,
});
