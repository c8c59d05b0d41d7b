/**
 * Which Temporal a command talks to (the embedded default, README "Temporal: embedded by
 * default"), in this order:
 *  a. TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE set: that server; nothing is started.
 *  b. `$REPRISE_HOME/up.json` from `reprise up`, when its server answers.
 *  c. Otherwise a dev server on free ports plus an in-process orchestrator worker, both for
 *     the command's lifetime (said on stderr).
 */
import { Client, Connection } from '@temporalio/client';
import { childLog } from '../src/base/log.js';
import { repriseHome } from '../src/base/paths.js';
import { ensureSearchAttributes } from '../src/temporal/connect.js';
import { findServer } from '../src/temporal/find-server.js';
import { startDevServer } from '../src/temporal/dev-server.js';
import type { InProcessWorker } from '../workers/orchestrator.js';

/** The commands load this module lazily (the SDK is heavy) and need the queue with it. */
export { TASK_QUEUE } from '../src/temporal/names.js';

export interface ResolvedTemporal {
  client: Client;
  connection: Connection;
  address: string;
  namespace: string;
  uiUrl?: string;
  /** True when this process started the server and the worker (case c). */
  embedded: boolean;
  /** Closes the connection; when embedded, also stops the worker and the server. */
  close(): Promise<void>;
}

export interface ResolveOptions {
  home?: string;
  env?: NodeJS.ProcessEnv;
}

export async function resolveTemporal(opts: ResolveOptions = {}): Promise<ResolvedTemporal> {
  const env = opts.env ?? process.env;
  const home = opts.home ?? repriseHome(env);
  const log = childLog('temporal');
  const found = await findServer(home, env);
  if (found) {
    const { server, connection } = found;
    // Best effort: a cloud namespace may refuse, and its admin may have registered them.
    if (found.source === 'env') await ensureSearchAttributes(connection, server.namespace).catch(() => false);
    return {
      client: new Client({ connection, namespace: server.namespace }),
      connection,
      address: server.address,
      namespace: server.namespace,
      uiUrl: found.uiUrl,
      embedded: false,
      close: () => connection.close(),
    };
  }

  const started = Date.now();
  const server = await startDevServer({ headless: true });
  const connection = await Connection.connect({ address: server.address }).catch(async (err: unknown) => {
    await server.stop();
    throw err;
  });
  let worker: InProcessWorker;
  try {
    // Loaded only here: the worker pulls in the native SDK core, which cases a and b never need.
    const { startInProcessWorker } = await import('../workers/orchestrator.js');
    worker = await startInProcessWorker({ address: server.address, namespace: server.namespace, home });
  } catch (err) {
    await connection.close();
    await server.stop();
    throw err;
  }
  log.info(
    { address: server.address, ms: Date.now() - started },
    'no TEMPORAL_ADDRESS and no `reprise up` server: started an embedded Temporal dev server and ' +
      'orchestrator worker for this command (run `reprise up` to keep one, with its Web UI)',
  );
  return {
    client: new Client({ connection, namespace: server.namespace }),
    connection,
    address: server.address,
    namespace: server.namespace,
    embedded: true,
    close: async () => {
      await connection.close();
      await worker.stop();
      await server.stop();
    },
  };
}
