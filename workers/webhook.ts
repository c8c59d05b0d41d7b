/**
 * The operator process (`node dist/workers/webhook.js`): the HTTPS admission server
 * (/mutate-workloads, /mutate-trafficreplay, /validate-trafficreplay), /healthz and /readyz on
 * the health port, the TrafficReplay controller (unless --no-controller) and the inspector
 * (unless --no-inspector). Configuration: src/kube/webhooks/config.ts (flags, then env). Prints
 * one JSON ready line on stdout; on SIGTERM/SIGINT stops everything, prints a stopped line and
 * exits 0. A bad flag or variable exits 2 naming it.
 */
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { admissionHandler, type AdmissionContext } from '../src/kube/webhooks/admission.js';
import { loadKubeConfig } from '../src/kube/client/client-node.js';
import { realLookups } from '../src/kube/webhooks/lookups.js';
import { TrafficReplayController } from '../src/kube/controller/controller.js';
import { LeaderElector } from '../src/kube/controller/leader.js';
import { KubeApi } from '../src/kube/client/api.js';

/** The Lease the operator replicas elect their controller with (in POD_NAMESPACE). */
const LEASE_NAME = 'reprise-operator-controller';
import { startInspector, type Inspector } from '../src/kube/inspector/server.js';
import { ConfigError, parseWebhookConfig, USAGE } from '../src/kube/webhooks/config.js';
import { childLog } from '../src/base/log.js';
import { openSnapshotStore } from '../src/store/open.js';
import { repriseHome } from '../src/base/paths.js';
import { HttpSnapshotStore } from '../src/store/http-store.js';
import { serverFromEnv } from '../src/temporal/connect.js';

const log = childLog('webhook');
/** cert-manager (or a chart upgrade) renews the files in place: look for a new pair this often. */
const TLS_RELOAD_MS = 60_000;

async function readTls(dir: string): Promise<{ cert: string; key: string }> {
  const read = (name: string) =>
    readFile(path.join(dir, name), 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw new ConfigError(
        `--tls-dir: cannot read ${path.join(dir, name)}: ${err.code ?? err.message} (expected tls.crt and tls.key)`,
      );
    });
  const [cert, key] = await Promise.all([read('tls.crt'), read('tls.key')]);
  return { cert, key };
}

function listen(server: http.Server | https.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

const close = (server: http.Server | https.Server) =>
  new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });

async function main(): Promise<void> {
  const cfg = parseWebhookConfig(process.argv.slice(2), process.env);
  if (cfg.help) {
    process.stdout.write(USAGE + '\n');
    return;
  }
  const kc = loadKubeConfig(cfg.kubeconfig);
  // The store itself when mounted (--store-dir) or in a bucket (REPRISE_STORE), else the
  // forwarder's snapshot API (REPRISE_FORWARDER_URL).
  const store =
    cfg.storeDir || process.env.REPRISE_STORE
      ? openSnapshotStore(cfg.storeDir ?? repriseHome())
      : cfg.inject.forwarderUrl
        ? new HttpSnapshotStore(cfg.inject.forwarderUrl)
        : undefined;
  const ctx: AdmissionContext = {
    inject: cfg.inject,
    lookups: realLookups(kc, store),
    skipNamespaces: cfg.podNamespace ? [cfg.podNamespace] : [],
    log,
  };

  let tls = await readTls(cfg.tlsDir);
  const webhook = https.createServer({ ...tls, minVersion: 'TLSv1.2' }, admissionHandler(ctx));
  const port = await listen(webhook, cfg.port, cfg.host);
  const reloadTls = setInterval(() => {
    readTls(cfg.tlsDir).then(
      (next) => {
        if (next.cert === tls.cert && next.key === tls.key) return;
        webhook.setSecureContext(next);
        tls = next;
        log.info({ tlsDir: cfg.tlsDir }, 'serving certificate reloaded');
      },
      (err: Error) => log.warn({ err: err.message }, 'serving certificate not reloaded'),
    );
  }, TLS_RELOAD_MS);
  reloadTls.unref();

  let controller: TrafficReplayController | undefined;
  let elector: LeaderElector | undefined;
  let connection: Connection | undefined;
  if (cfg.controller.enabled) {
    const server = serverFromEnv()!;
    connection = await Connection.connect({
      address: server.address,
      tls: server.tls,
      apiKey: server.apiKey,
    });
    controller = new TrafficReplayController({
      kc,
      temporal: new Client({ connection, namespace: server.namespace }),
      resyncMs: cfg.controller.resyncMs,
      pollMs: cfg.controller.pollMs,
      log: childLog('controller'),
    });
    const leader = cfg.controller.leader;
    if (leader) {
      // Every replica serves the webhooks; only the Lease holder reconciles.
      const started = controller;
      elector = new LeaderElector({
        api: new KubeApi(kc),
        name: LEASE_NAME,
        ...leader,
        log: childLog('leader'),
      });
      elector.run(
        () =>
          void started.start().catch((err: Error) => {
            log.error({ err: err.message }, 'controller failed to start');
            process.exit(1);
          }),
        // Lost the Lease: another replica may reconcile now; this one must not. A restart
        // makes it a candidate again with a clean controller.
        () => process.exit(1),
      );
    } else await controller.start();
  }

  let inspector: Inspector | undefined;
  if (cfg.inspector.enabled) {
    const token = cfg.inspector.token ?? (await readFile(cfg.inspector.tokenFile!, 'utf8')).trim();
    if (!token) throw new ConfigError(`--inspector-token-file: ${cfg.inspector.tokenFile} is empty`);
    inspector = await startInspector({
      kc,
      token,
      store,
      port: cfg.inspector.port,
      host: cfg.host,
      log: childLog('inspector'),
    });
  }

  let stopping = false;
  const health = http.createServer((req, res) => {
    const p = (req.url ?? '/').split('?')[0];
    // Ready once the webhooks listen and the controller has read its first list.
    // A replica waiting for the Lease serves the webhooks: it is ready too.
    const ready =
      !stopping && (!controller || controller.synced || (elector !== undefined && !elector.isLeader));
    if (p === '/healthz') res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    else if (p === '/readyz')
      res.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' }).end(ready ? 'ok' : 'not ready');
    else res.writeHead(404).end();
  });
  const healthPort = await listen(health, cfg.healthPort, cfg.host);

  process.stdout.write(
    JSON.stringify({
      event: 'ready',
      port,
      healthPort,
      inspectorPort: inspector?.port ?? null,
      controller: Boolean(controller),
      pid: process.pid,
    }) + '\n',
  );

  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    clearInterval(reloadTls);
    await elector?.stop();
    await Promise.allSettled([close(webhook), inspector?.close(), controller?.stop()]);
    await connection?.close().catch(() => undefined);
    await close(health);
    process.stdout.write(JSON.stringify({ event: 'stopped', signal, pid: process.pid }) + '\n', () =>
      process.exit(0),
    );
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

main().catch((err: unknown) => {
  const usage = err instanceof ConfigError;
  process.stderr.write(`webhook: ${(err as Error).message}\n${usage ? USAGE + '\n' : ''}`);
  process.exit(usage ? 2 : 1);
});
