/**
 * A Temporal server someone else runs (README "Temporal: embedded by default", cases a and b):
 * TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE, or `$REPRISE_HOME/up.json` from `reprise up` when its
 * server answers. Used by the CLI (cli/resolve-temporal.ts), the orchestrator worker and the demo.
 */
import { Connection } from '@temporalio/client';
import { serverFromEnv, tryConnect, type ServerOptions } from './connect.js';
import { readUpState } from './up-state.js';

export interface FoundServer {
  server: ServerOptions;
  source: 'env' | 'up';
  uiUrl?: string;
  /** The log file of `reprise up`'s worker, when it said. */
  logFile?: string;
  connection: Connection;
}

const UP_CHECK_TIMEOUT_MS = 2_000;
/** A remote cluster may take a few seconds; a wrong address should not hang a command long. */
const ENV_CONNECT_TIMEOUT_MS = 5_000;

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Cases a and b: a server someone else runs, connected; undefined when there is none. */
export async function findServer(
  home: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<FoundServer | undefined> {
  const fromEnv = serverFromEnv(env);
  if (fromEnv) {
    try {
      const connection = await Connection.connect({
        address: fromEnv.address,
        tls: fromEnv.tls,
        apiKey: fromEnv.apiKey,
        connectTimeout: ENV_CONNECT_TIMEOUT_MS,
      });
      return { server: fromEnv, source: 'env', connection };
    } catch (err) {
      throw new Error(
        `cannot reach Temporal at ${fromEnv.address} (TEMPORAL_ADDRESS): ${(err as Error).message}`,
      );
    }
  }
  const up = await readUpState(home);
  if (up && pidAlive(up.pid)) {
    const server = { address: up.address, namespace: up.namespace };
    const connection = await tryConnect(server, UP_CHECK_TIMEOUT_MS);
    if (connection) return { server, source: 'up', uiUrl: up.uiUrl, logFile: up.logFile, connection };
  }
  return undefined;
}
