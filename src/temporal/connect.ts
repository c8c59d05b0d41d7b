/**
 * Connecting to a Temporal server named by the environment, and making sure Reprise's search
 * attributes exist there. Shared by resolveTemporal() and the orchestrator worker process.
 */
import { readFileSync } from 'node:fs';
import { Connection } from '@temporalio/client';
// Not re-exported from the package index; the value is the proto enum the operator API takes.
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes.js';
import { childLog } from '../base/log.js';
import { SEARCH_ATTRIBUTES } from './names.js';

export const DEFAULT_NAMESPACE = 'default';

/** What both client and worker connections need. */
export interface ServerOptions {
  address: string;
  namespace: string;
  tls?: { clientCertPair?: { crt: Buffer; key: Buffer }; serverRootCACertificate?: Buffer } | boolean;
  apiKey?: string;
}

/**
 * The server named by TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE (the Temporal CLI's variables,
 * plus TEMPORAL_API_KEY and TEMPORAL_TLS_CLIENT_CERT_PATH/KEY_PATH for a cloud or a secured
 * cluster), or undefined when neither is set.
 */
export function serverFromEnv(env: NodeJS.ProcessEnv = process.env): ServerOptions | undefined {
  if (!env.TEMPORAL_ADDRESS && !env.TEMPORAL_NAMESPACE) return undefined;
  const certPath = env.TEMPORAL_TLS_CLIENT_CERT_PATH;
  const keyPath = env.TEMPORAL_TLS_CLIENT_KEY_PATH;
  const caPath = env.TEMPORAL_TLS_SERVER_CA_CERT_PATH;
  const mtls = certPath && keyPath;
  const tlsWanted = mtls || caPath || env.TEMPORAL_API_KEY || /^(1|true)$/i.test(env.TEMPORAL_TLS ?? '');
  return {
    address: env.TEMPORAL_ADDRESS || '127.0.0.1:7233',
    namespace: env.TEMPORAL_NAMESPACE || DEFAULT_NAMESPACE,
    apiKey: env.TEMPORAL_API_KEY || undefined,
    tls: tlsWanted
      ? {
          clientCertPair: mtls ? { crt: readFileSync(certPath), key: readFileSync(keyPath) } : undefined,
          serverRootCACertificate: caPath ? readFileSync(caPath) : undefined,
        }
      : undefined,
  };
}

/** A client connection, or undefined when nothing answers there within `timeoutMs`. */
export async function tryConnect(server: ServerOptions, timeoutMs: number): Promise<Connection | undefined> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({
      address: server.address,
      tls: server.tls,
      apiKey: server.apiKey,
      connectTimeout: timeoutMs,
    });
    // Connected is not enough: the namespace must exist (the dev server creates it last).
    await connection.withDeadline(Date.now() + timeoutMs, () =>
      connection!.workflowService.describeNamespace({ namespace: server.namespace }),
    );
    return connection;
  } catch {
    await connection?.close().catch(() => {});
    return undefined;
  }
}

/** gRPC status codes meaning "you may not / cannot do that here" (Temporal Cloud, a locked-down cluster). */
const NOT_ALLOWED = new Set([7 /* PERMISSION_DENIED */, 12 /* UNIMPLEMENTED */, 16 /* UNAUTHENTICATED */]);

/**
 * Registers the Reprise search attributes that the namespace lacks. Returns false when the
 * server does not let us (then workflows upserting them fail: register them by hand).
 */
export async function ensureSearchAttributes(connection: Connection, namespace: string): Promise<boolean> {
  const log = childLog('temporal');
  try {
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
    const missing = SEARCH_ATTRIBUTES.filter((key) => !customAttributes?.[key.name]);
    if (!missing.length) return true;
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(
        missing.map((key) => [key.name, encodeSearchAttributeIndexedValueType(key.type)!]),
      ),
    });
    log.info({ namespace, added: missing.map((k) => k.name) }, 'registered search attributes');
    return true;
  } catch (err) {
    if (!NOT_ALLOWED.has((err as { code?: number }).code ?? -1)) throw err;
    log.warn(
      { namespace, error: (err as Error).message },
      `cannot register search attributes (${SEARCH_ATTRIBUTES.map((k) => k.name).join(', ')}, Keyword); register them by hand`,
    );
    return false;
  }
}
