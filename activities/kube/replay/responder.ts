/**
 * The responder of a Kubernetes replay: a Deployment and a Service in Reprise's namespace,
 * answering from the snapshot (read through the forwarder), with the Reprise CA for the hosts it
 * answers over TLS; its stats read through the API server's service proxy.
 */
import { readFile } from 'node:fs/promises';
import type { ResponderConfig } from '../../../src/config/replay.js';
import { resourcePath } from '../../../src/kube/client/api.js';
import { CA_VOLUME } from '../../../src/kube/api/annotations.js';
import type { ResponderStats } from '../../../src/model/replay.js';
import { caDir } from '../../../src/base/paths.js';
import { ensureCa } from '../../../src/tls/ca.js';
import type { ReplayRef } from '../../runtime.js';
import type { RuntimeContext } from '../../runtime.js';
import { objectName, waitForRollout } from '../common.js';
import { CA_MOUNT, CONFIG_MOUNT, type ReplayCluster } from './cluster.js';

const RESPONDER_PORT = 8080;

export async function startResponder(
  k: ReplayCluster,
  req: ReplayRef & { snapshotId: string; config: ResponderConfig },
  ctx: RuntimeContext,
): Promise<{ url: string }> {
  const meta = k.meta(req.replayId, 'responder');
  const ca = await ensureCa(caDir(k.options.home));
  const caKey = await readFile(ca.keyPath, 'utf8');
  // The responder signs the hosts it answers over TLS with the Reprise CA the app is told to trust.
  await k.api.ensure(
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: k.meta(req.replayId, 'ca'),
      stringData: { 'ca.pem': ca.cert, 'ca-key.pem': caKey },
    },
    ctx.signal,
  );
  await k.api.ensure(
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: meta,
      data: { 'config.json': JSON.stringify(req.config), snapshotId: req.snapshotId },
    },
    ctx.signal,
  );
  const podLabels = { ...meta.labels, 'app.kubernetes.io/name': meta.name };
  await k.api.ensure(
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta,
      spec: {
        replicas: 1,
        selector: { matchLabels: { 'app.kubernetes.io/name': meta.name } },
        template: {
          metadata: { labels: podLabels },
          spec: {
            terminationGracePeriodSeconds: 5,
            containers: [
              {
                ...k.container(
                  'responder',
                  [
                    `--snapshot=${req.snapshotId}`,
                    `--snapshot-url=${k.options.forwarderUrl}`,
                    '--host=0.0.0.0',
                    `--port=${RESPONDER_PORT}`,
                    `--config=${CONFIG_MOUNT}/config.json`,
                    `--ca-dir=${CA_MOUNT}`,
                  ],
                  [
                    { name: 'config', mountPath: CONFIG_MOUNT },
                    { name: CA_VOLUME, mountPath: CA_MOUNT },
                  ],
                ),
                ports: [{ name: 'http', containerPort: RESPONDER_PORT }],
                readinessProbe: { httpGet: { path: '/__reprise/healthz', port: RESPONDER_PORT } },
              },
            ],
            volumes: [
              { name: 'config', configMap: { name: meta.name } },
              { name: CA_VOLUME, secret: { secretName: objectName('ca', req.replayId) } },
            ],
          },
        },
      },
    },
    ctx.signal,
  );
  // As a proxy (HTTP_PROXY) on 80, and as the recorded hosts themselves (hostalias) on 80 and 443.
  await k.api.ensure(
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta,
      spec: {
        selector: { 'app.kubernetes.io/name': meta.name },
        ports: [
          { name: 'http', port: 80, targetPort: RESPONDER_PORT },
          { name: 'https', port: 443, targetPort: RESPONDER_PORT },
        ],
      },
    },
    ctx.signal,
  );
  const ref = k.ownRef('Deployment', meta.name);
  await waitForRollout(k.api, ref, k.readyTimeoutMs, ctx);
  return { url: `http://${meta.name}.${k.ns}.svc` };
}

/** Through the API server's service proxy, so it works wherever the orchestrator runs. */
export async function responderStats(
  k: ReplayCluster,
  req: ReplayRef,
  ctx: RuntimeContext,
): Promise<ResponderStats | undefined> {
  const name = objectName('responder', req.replayId);
  try {
    return await k.api.get<ResponderStats>(
      `${resourcePath('Service', k.ns, `${name}:http`)}/proxy/__reprise/stats`,
      ctx.signal,
    );
  } catch (err) {
    // No stats is a gap in the report, not a reason to lose the report.
    k.log.warn({ replayId: req.replayId, err: (err as Error).message }, 'responder stats unavailable');
    return undefined;
  }
}

export async function stopResponder(k: ReplayCluster, req: ReplayRef, ctx: RuntimeContext): Promise<void> {
  const name = objectName('responder', req.replayId);
  await k.api.remove(resourcePath('Deployment', k.ns, name), ctx.signal);
  await k.api.remove(resourcePath('Service', k.ns, name), ctx.signal);
}
