/** The sidecar's settings (docs/contracts.md), their defaults, and filling them in. */
import { DEFAULT_MAX_BODY_BYTES } from '../src/model/traffic.js';
import { caDir, repriseHome } from '../src/base/paths.js';

export interface SidecarOptions {
  /** The app the inbound proxy forwards to; required unless inPort is -1. */
  appPort?: number;
  appHost?: string;
  /** Inbound reverse proxy port: 0 = ephemeral, -1 = disabled. */
  inPort?: number;
  /** Bind address of the inbound port; default: every interface (like the app it stands in for). */
  inHost?: string;
  /** Outbound forward proxy port (the app's HTTP_PROXY): 0 = ephemeral, -1 = disabled. */
  outPort?: number;
  /** Bind address of the outbound port; default loopback so it is never an open proxy. */
  outHost?: string;
  /** Admin port (/healthz, /metrics, /stats): 0 = ephemeral, -1 = disabled. */
  adminPort?: number;
  adminHost?: string;
  /** Where pairs are shipped (`{forwarder}/v1/pairs`); absent = pairs are counted, then discarded. */
  forwarder?: string;
  service?: string;
  /** Decrypt CONNECT tunnels with the Reprise CA (default: tunnel them opaque). */
  tlsIntercept?: boolean;
  caDir?: string;
  /** Skip verifying the upstream's certificate on intercepted tunnels. */
  insecureUpstream?: boolean;
  /** Extra CA certificates (PEM) trusted for upstreams, besides the system roots. */
  upstreamCa?: string[];
  maxBody?: number;
  bufferPairs?: number;
  bufferBytes?: number;
  batchPairs?: number;
  flushMs?: number;
  drainTimeoutMs?: number;
  ignorePaths?: string[];
  ignoreHosts?: string[];
  ignorePorts?: number[];
  ignoreSrcIps?: string[];
}

export type ResolvedOptions = Required<
  Omit<SidecarOptions, 'appPort' | 'forwarder' | 'inHost' | 'adminHost'>
> &
  Pick<SidecarOptions, 'appPort' | 'forwarder' | 'inHost' | 'adminHost'>;

export const DEFAULT_IGNORE_PATHS = ['/healthz', '/readyz', '/livez', '/metrics'];

export const DEFAULTS = {
  appHost: '127.0.0.1',
  inPort: 4143,
  outPort: 4140,
  outHost: '127.0.0.1',
  adminPort: 4144,
  service: 'app',
  maxBody: DEFAULT_MAX_BODY_BYTES,
  bufferPairs: 10_000,
  bufferBytes: 64 * 1024 * 1024,
  batchPairs: 500,
  flushMs: 200,
  drainTimeoutMs: 5000,
} as const;

export function resolveOptions(opts: SidecarOptions): ResolvedOptions {
  const inPort = opts.inPort ?? DEFAULTS.inPort;
  if (inPort !== -1 && opts.appPort === undefined) {
    throw new Error('appPort is required when the inbound proxy is on (inPort is not -1)');
  }
  return {
    appPort: opts.appPort,
    appHost: opts.appHost ?? DEFAULTS.appHost,
    inPort,
    inHost: opts.inHost,
    outPort: opts.outPort ?? DEFAULTS.outPort,
    outHost: opts.outHost ?? DEFAULTS.outHost,
    adminPort: opts.adminPort ?? DEFAULTS.adminPort,
    adminHost: opts.adminHost,
    forwarder: opts.forwarder?.replace(/\/+$/, ''),
    service: opts.service ?? DEFAULTS.service,
    tlsIntercept: opts.tlsIntercept ?? false,
    caDir: opts.caDir ?? caDir(repriseHome()),
    insecureUpstream: opts.insecureUpstream ?? false,
    upstreamCa: opts.upstreamCa ?? [],
    maxBody: opts.maxBody ?? DEFAULTS.maxBody,
    bufferPairs: opts.bufferPairs ?? DEFAULTS.bufferPairs,
    bufferBytes: opts.bufferBytes ?? DEFAULTS.bufferBytes,
    batchPairs: opts.batchPairs ?? DEFAULTS.batchPairs,
    flushMs: opts.flushMs ?? DEFAULTS.flushMs,
    drainTimeoutMs: opts.drainTimeoutMs ?? DEFAULTS.drainTimeoutMs,
    ignorePaths: opts.ignorePaths ?? DEFAULT_IGNORE_PATHS,
    ignoreHosts: opts.ignoreHosts ?? [],
    ignorePorts: opts.ignorePorts ?? [],
    ignoreSrcIps: opts.ignoreSrcIps ?? [],
  };
}
