/**
 * Which Temporal a command talks to (the embedded default, README "Temporal: embedded by
 * default"), in this order:
 *  a. TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE set: that server; nothing is started.
 *  b. `$REPRISE_HOME/up.json` from `reprise up`, when its server answers.
 *  c. Otherwise a dev server on free ports plus an in-process orchestrator worker, both for
 *     the command's lifetime (said on stderr). What they log goes to the command's log file.
 * A server that cannot be reached or started is one line naming the address and what to do.
 */
import { Client, Connection } from '@temporalio/client';
import { childLog } from '../src/base/log.js';
import { repriseHome } from '../src/base/paths.js';
import { ensureTemporalBinary } from '../src/temporal/binary.js';
import { ensureSearchAttributes, serverFromEnv } from '../src/temporal/connect.js';
import { findServer } from '../src/temporal/find-server.js';
import { startDevServer, type DevServer } from '../src/temporal/dev-server.js';
import type { InProcessWorker } from '../workers/orchestrator.js';
import { CliError } from './errors.js';
import { firstLine } from './failures.js';
import { notice } from './output.js';

/** The commands load this module lazily (the SDK is heavy) and need the queue with it. */
export { TASK_QUEUE } from '../src/temporal/names.js';

export interface ResolvedTemporal {
  client: Client;
  connection: Connection;
  address: string;
  namespace: string;
  uiUrl?: string;
  /** The log file of the worker when it is `reprise up`'s (the embedded one logs to the command's own). */
  workerLog?: string;
  /** True when this process started the server and the worker (case c). */
  embedded: boolean;
  /** Closes the connection; when embedded, also stops the worker and the server. */
  close(): Promise<void>;
}

export interface ResolveOptions {
  home?: string;
  env?: NodeJS.ProcessEnv;
  /** Case c refused with this reason (schedules outlive the command: they need a server that stays). */
  needsLastingServer?: string;
}

/** Where a workflow can be looked up: its id, and its page in the Web UI when there is one. */
export function workflowLink(temporal: ResolvedTemporal, workflowId: string): string {
  const page = temporal.uiUrl
    ? `, ${temporal.uiUrl}/namespaces/${encodeURIComponent(temporal.namespace)}/workflows/${encodeURIComponent(workflowId)}`
    : '';
  return `workflow ${workflowId}${page}`;
}

/** Cases a and b, with a server named by TEMPORAL_ADDRESS that does not answer worded as one line. */
async function findRunning(home: string, env: NodeJS.ProcessEnv) {
  try {
    return await findServer(home, env);
  } catch (err) {
    const named = serverFromEnv(env);
    if (!named) throw err;
    throw new CliError(
      `cannot reach Temporal at ${named.address} (TEMPORAL_ADDRESS): ${firstLine((err as Error).message).replace(/^cannot reach Temporal at \S+ \(TEMPORAL_ADDRESS\): /, '')}; ` +
        'start that server or fix TEMPORAL_ADDRESS, or unset it to let reprise start its own',
    );
  }
}

/** A headless dev server for this command; an installation or start failure is one line. */
async function startEmbeddedServer(): Promise<DevServer> {
  try {
    await ensureTemporalBinary((msg) => notice(msg));
    return await startDevServer({ headless: true });
  } catch (err) {
    childLog('temporal').error({ err }, 'could not start an embedded Temporal dev server');
    throw new CliError(
      `could not start an embedded Temporal dev server: ${firstLine((err as Error).message)}; ` +
        'run `reprise up` in another terminal, or set TEMPORAL_ADDRESS',
    );
  }
}

export async function resolveTemporal(opts: ResolveOptions = {}): Promise<ResolvedTemporal> {
  const env = opts.env ?? process.env;
  const home = opts.home ?? repriseHome(env);
  const found = await findRunning(home, env);
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
      workerLog: found.logFile,
      embedded: false,
      close: () => connection.close(),
    };
  }

  if (opts.needsLastingServer) {
    throw new CliError(
      `${opts.needsLastingServer}: start one with \`reprise up\` (in another terminal) or set TEMPORAL_ADDRESS`,
    );
  }
  const started = Date.now();
  const server = await startEmbeddedServer();
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
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  notice(
    `no TEMPORAL_ADDRESS and no \`reprise up\` server: started an embedded Temporal dev server ` +
      `and orchestrator worker for this command in ${seconds} s (\`reprise up\` keeps one, with its Web UI)`,
    { address: server.address },
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
