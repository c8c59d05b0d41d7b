/**
 * The inbound reverse proxy: a plain `net` server in front of the app. Each client connection
 * gets its own connection to the app and the two are spliced; the tap reads a copy.
 */
import net from 'node:net';
import { ConnectionTap, type TapContext } from './connection-tap.js';
import { normalizeIp } from './ignore.js';
import { Splice } from './splice.js';

export interface InboundOptions {
  appHost: string;
  appPort: number;
  /** The port clients reach us on: the recorded port when the Host header names none. */
  inPort: () => number;
}

export function createInbound(opts: InboundOptions, ctx: TapContext, splices: Set<Splice>): net.Server {
  return net.createServer({ noDelay: true, allowHalfOpen: true }, (client) => {
    ctx.counters.connections++;
    const upstream = net.connect({
      host: opts.appHost,
      port: opts.appPort,
      noDelay: true,
      allowHalfOpen: true,
    });
    const recorder = new ConnectionTap(ctx, {
      outbound: false,
      https: false,
      host: normalizeIp(client.localAddress ?? opts.appHost),
      port: opts.inPort(),
      upstream: { host: opts.appHost, port: opts.appPort, tls: false },
      ignoreAll: ctx.ignore.sourceIp(client.remoteAddress),
      ignorePaths: true,
    });
    const splice = new Splice(client, upstream, {
      recorder,
      readyEvent: 'connect',
      badGateway: true,
      onClose: (s) => splices.delete(s),
    });
    splices.add(splice);
  });
}
