/**
 * The capture sidecar: an inbound reverse proxy in front of the app, an outbound forward proxy
 * for the app's HTTP_PROXY/HTTPS_PROXY (with optional TLS interception), a tap per connection
 * that finds message boundaries in a copy of the proxied bytes, a shipper that batches what the
 * taps keep to the forwarder (which parses, masks and stores), and an admin port. See
 * docs/contracts.md for the process around it.
 */
import type http from 'node:http';
import type net from 'node:net';
import { rootCertificates } from 'node:tls';
import { childLog } from '../src/base/log.js';
import { createAdmin } from './admin.js';
import { createConnectHandler } from './connect-tunnel.js';
import type { TapContext } from './connection-tap.js';
import { createForwardProxy, type ForwardProxy } from './forward-proxy.js';
import { Ignore } from './ignore.js';
import { createInbound } from './inbound.js';
import { type SidecarOptions, resolveOptions } from './options.js';
import { Shipper } from './shipper.js';
import type { Splice } from './splice.js';
import { newCounters, type StatsSnapshot } from './stats.js';

export type { SidecarOptions } from './options.js';
export type { StatsSnapshot } from './stats.js';
export type FinalStats = StatsSnapshot;

export interface Sidecar {
  /** Bound ports; -1 for a disabled one. */
  inPort: number;
  outPort: number;
  adminPort: number;
  /** The Reprise CA certificate clients must trust, when TLS interception is on. */
  caCertPath?: string;
  stats(): StatsSnapshot;
  /**
   * Stops accepting, lets in-flight exchanges finish, ships the buffer, all within the drain
   * timeout; resolves with the final counters. Safe to call more than once.
   */
  close(): Promise<FinalStats>;
}

export async function startSidecar(input: SidecarOptions): Promise<Sidecar> {
  const opts = resolveOptions(input);
  const log = childLog('sidecar', { service: opts.service });
  const counters = newCounters();
  const shipper = new Shipper(opts, counters, log);
  const splices = new Set<Splice>();
  let conns = 0;
  const rec: TapContext = {
    shipper,
    maxBody: opts.maxBody,
    ignore: new Ignore(opts),
    counters,
    nextConn: () => (conns = (conns + 1) >>> 0),
    onError: (err, facts) => log.warn({ err, outbound: facts.outbound, host: facts.host }, 'tap error'),
  };
  const upstreamCa = opts.upstreamCa.length ? [...rootCertificates, ...opts.upstreamCa] : undefined;

  // Loaded only when needed: the certificate machinery (mockttp, x509) takes a second to import.
  const interception =
    opts.tlsIntercept && opts.outPort !== -1
      ? await Promise.all([import('../src/tls/ca.js'), import('./tls-interception.js')])
      : undefined;
  const ca = interception && (await interception[0].loadCa(opts.caDir));
  const leafs = ca && (await interception[1].LeafCertificates.create(ca));

  let inbound: net.Server | undefined;
  let inPort = -1;
  if (opts.inPort !== -1) {
    inbound = createInbound(
      { appHost: opts.appHost, appPort: opts.appPort!, inPort: () => inPort },
      rec,
      splices,
    );
  }
  let outbound: ForwardProxy | undefined;
  if (opts.outPort !== -1) {
    const onConnect = createConnectHandler({
      rec,
      leafs,
      insecureUpstream: opts.insecureUpstream,
      upstreamCa,
      splices,
    });
    outbound = createForwardProxy({ insecureUpstream: opts.insecureUpstream, upstreamCa }, rec, onConnect);
  }
  const stats = (): StatsSnapshot => ({
    ...counters,
    bufferedPairs: shipper.bufferedPairs,
    bufferedBytes: shipper.bufferedBytes,
    activeConnections: splices.size,
  });
  const admin = opts.adminPort !== -1 ? createAdmin(stats) : undefined;

  const listening: (net.Server | http.Server)[] = [];
  const listenOn = async (server: net.Server | undefined, port: number, host: string | undefined) => {
    if (!server) return -1;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    listening.push(server);
    // Past listen, an accept error (EMFILE) must not take the process down.
    server.on('error', (err) => log.warn({ err }, 'server error'));
    return (server.address() as net.AddressInfo).port;
  };
  let outPort = -1;
  let adminPort = -1;
  try {
    inPort = await listenOn(inbound, opts.inPort, opts.inHost);
    outPort = await listenOn(outbound?.server, opts.outPort, opts.outHost);
    adminPort = await listenOn(admin, opts.adminPort, opts.adminHost);
  } catch (err) {
    for (const s of listening) s.close();
    outbound?.close();
    throw err;
  }
  log.info(
    { inPort, outPort, adminPort, app: `${opts.appHost}:${opts.appPort}`, forwarder: opts.forwarder ?? null },
    'sidecar listening',
  );

  let closing: Promise<FinalStats> | undefined;
  const close = () =>
    (closing ??= (async () => {
      const deadline = Date.now() + opts.drainTimeoutMs;
      // Connections get half the drain time; shipping what they produced gets the rest.
      const connDeadline = Date.now() + opts.drainTimeoutMs / 2;
      const closed = Promise.all(
        [inbound, outbound?.server].map((s) => (s ? new Promise((r) => s.close(r)) : undefined)),
      );
      outbound?.server.closeIdleConnections();
      for (const s of splices) endWhenIdle(s);
      await Promise.race([
        Promise.all([closed, waitUntil(() => splices.size === 0, connDeadline)]),
        sleepUntil(connDeadline),
      ]);
      for (const s of splices) s.destroy();
      // Their close events record what was still open (with an error) before the last flush.
      await waitUntil(() => splices.size === 0, Date.now() + 200);
      outbound?.server.closeAllConnections();
      outbound?.close();
      await shipper.drain(deadline);
      await new Promise((r) => (admin ? admin.close(r) : r(undefined)));
      const final = stats();
      log.info(final, 'sidecar stopped');
      return final;
    })());

  return { inPort, outPort, adminPort, caCertPath: ca?.certPath, stats, close };
}

/** Ends a spliced connection once it is between exchanges (HTTP/2: streams); unparsed ones wait for the deadline. */
function endWhenIdle(s: Splice): void {
  const rec = s.recorder;
  if (!rec || rec.off) return;
  rec.onIdle = () => s.end();
  if (rec.idle) s.end();
}

function sleepUntil(at: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, at - Date.now())));
}

async function waitUntil(cond: () => boolean, deadline: number): Promise<void> {
  while (!cond() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
}
