/**
 * The inbound reverse proxy: a plain `net` server in front of the app. Each client connection
 * gets its own connection to the app and the two are spliced; the recorder reads a copy.
 */
import net from 'node:net';
import { ConnectionRecorder, type RecorderContext } from './connection-recorder.js';
import { normalizeIp } from './ignore.js';
import { Splice } from './splice.js';

export interface InboundOptions {
  appHost: string;
  appPort: number;
  /** The port clients reach us on: the recorded port when the Host header names none. */
  inPort: () => number;
}

export function createInbound(opts: InboundOptions, ctx: RecorderContext, splices: Set<Splice>): net.Server {
  return net.createServer({ noDelay: true, allowHalfOpen: true }, (client) => {
    ctx.counters.connections++;
    const upstream = net.connect({
      host: opts.appHost,
      port: opts.appPort,
      noDelay: true,
      allowHalfOpen: true,
    });
    const recorder = new ConnectionRecorder(ctx, {
      direction: 'inbound',
      scheme: 'http',
      host: normalizeIp(client.localAddress ?? opts.appHost),
      port: opts.inPort(),
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
