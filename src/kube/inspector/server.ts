/**
 * The inspector: a small read-only HTTP API on its own port, to look at Reprise in a cluster from
 * outside (through a port-forward): workloads eligible for capture and whether they carry the
 * sidecar, snapshots, TrafficReplays with their status. Every /api route needs
 * `Authorization: Bearer <token>`; turning the inspector off changes nothing else.
 */
import { timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CustomObjectsApi,
  KubernetesObjectApi,
  type KubeConfig,
  type KubernetesObject,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { SnapshotStore } from '../../store/types.js';
import { CAPTURE, TRAFFIC_REPLAY } from '../api/annotations.js';
import { apiMessage, statusOf } from '../client/client-node.js';
import { readInjectedRecord, WORKLOAD_KINDS, type PodTemplate } from '../webhooks/inject.js';
import type { TrafficReplay } from '../api/traffic-replay.js';

export interface InspectorOptions {
  kc: KubeConfig;
  token: string;
  store?: Pick<SnapshotStore, 'list'>;
  port: number;
  host?: string;
  log?: Logger;
}

export interface Inspector {
  port: number;
  close(): Promise<void>;
}

const CAPTURE_PREFIX = 'capture.reprise.dev/';

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function authorized(header: string | undefined, token: string): boolean {
  const given = Buffer.from(/^Bearer (.+)$/i.exec(header ?? '')?.[1] ?? '');
  const want = Buffer.from(token);
  return given.length === want.length && timingSafeEqual(given, want);
}

const captureAnnotations = (a: Record<string, string> | undefined) =>
  Object.fromEntries(
    Object.entries(a ?? {}).filter(([k]) => k.startsWith(CAPTURE_PREFIX) && k !== CAPTURE.injected),
  );

export async function startInspector(opts: InspectorOptions): Promise<Inspector> {
  const objects = KubernetesObjectApi.makeApiClient(opts.kc);
  const custom = opts.kc.makeApiClient(CustomObjectsApi);

  const routes: Record<string, (q: URLSearchParams) => Promise<unknown>> = {
    '/api/workloads': async (q) => {
      const namespace = q.get('namespace') ?? undefined;
      const lists = await Promise.all(
        WORKLOAD_KINDS.map((kind) =>
          objects.list<KubernetesObject & { spec?: { template?: PodTemplate } }>('apps/v1', kind, namespace),
        ),
      );
      return lists.flatMap((list, i) =>
        list.items.map((w) => {
          const template = w.spec?.template ?? {};
          const capture = {
            ...captureAnnotations(w.metadata?.annotations),
            ...captureAnnotations(template.metadata?.annotations),
          };
          return {
            kind: WORKLOAD_KINDS[i],
            namespace: w.metadata?.namespace,
            name: w.metadata?.name,
            capture,
            captureRequested: capture[CAPTURE.inject] === 'true',
            injected: readInjectedRecord(template) !== undefined,
          };
        }),
      );
    },
    '/api/snapshots': async () => {
      if (!opts.store) throw new HttpError(503, 'no snapshot store configured (--store-dir / REPRISE_HOME)');
      return (await opts.store.list()).map((m) => ({
        id: m.id,
        service: m.service,
        createdAt: m.createdAt,
        pairs: m.counts?.pairs,
        inbound: m.counts?.inbound,
        outbound: m.counts?.outbound,
      }));
    },
    '/api/replays': async (q) => {
      const { group, version, plural } = TRAFFIC_REPLAY;
      const namespace = q.get('namespace');
      const list = (
        namespace
          ? await custom.listNamespacedCustomObject({ group, version, plural, namespace })
          : await custom.listClusterCustomObject({ group, version, plural })
      ) as { items: TrafficReplay[] };
      return list.items.map((r) => ({
        namespace: r.metadata.namespace,
        name: r.metadata.name,
        uid: r.metadata.uid,
        snapshotId: r.spec.snapshotId,
        mode: r.spec.mode,
        status: r.status ?? {},
      }));
    },
  };

  const server = http.createServer((req, res) => {
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      const text = JSON.stringify(body);
      res
        .writeHead(status, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(text),
          ...headers,
        })
        .end(text);
    };
    const url = new URL(req.url ?? '/', 'http://inspector');
    if (url.pathname === '/healthz') return send(200, { status: 'ok' });
    if (!authorized(req.headers.authorization, opts.token))
      return send(
        401,
        { error: 'missing or wrong bearer token' },
        { 'www-authenticate': 'Bearer realm="reprise-inspector"' },
      );
    const route = routes[url.pathname];
    if (!route)
      return send(404, { error: `no route ${url.pathname}; try ${Object.keys(routes).join(', ')}` });
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return send(405, { error: 'read-only: use GET' }, { allow: 'GET' });
    route(url.searchParams).then(
      (body) => send(200, body),
      (err: unknown) => {
        const status = err instanceof HttpError ? err.status : statusOf(err) === 403 ? 403 : 502;
        opts.log?.warn({ err: apiMessage(err), path: url.pathname }, 'inspector request failed');
        send(status, { error: apiMessage(err) });
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '0.0.0.0', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
