/**
 * The operator's configuration (`node dist/workers/webhook.js`): flags first, then the
 * environment the Helm chart sets, then defaults. Pure, so every error message is unit-tested.
 */
import { hostname } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parseDuration } from '../../base/duration.js';
import { CA_VOLUME } from '../api/annotations.js';
import { DEFAULT_INJECT_OPTIONS, type InjectOptions } from './capture-config.js';

export const USAGE = `usage: webhook [--port 9443] [--host 0.0.0.0] [--tls-dir /etc/reprise/tls] [--health-port 8081]
               [--no-controller] [--resync 5m] [--poll 2s] [--leader-elect [--lease-duration 15s]]
               [--kubeconfig FILE] [--store-dir DIR]
               [--inspector-port 8080 | --no-inspector] [--inspector-token-file FILE]
environment: WEBHOOK_PORT, WEBHOOK_HOST, TLS_DIR, HEALTH_PORT, INSPECTOR_PORT, INSPECTOR_TOKEN,
  INSPECTOR_TOKEN_FILE, POD_NAMESPACE, POD_NAME (the leader's identity), REPRISE_IMAGE (required), REPRISE_SIDECAR_IMAGE,
  REPRISE_INIT_IMAGE, REPRISE_IMAGE_PULL_POLICY, REPRISE_FORWARDER_URL, REPRISE_CA_SECRET,
  REPRISE_SIDECAR_IN_PORT, REPRISE_SIDECAR_OUT_PORT, REPRISE_SIDECAR_ADMIN_PORT,
  REPRISE_SIDECAR_CPU_REQUEST, REPRISE_SIDECAR_MEMORY_REQUEST,
  REPRISE_SIDECAR_CPU_LIMIT, REPRISE_SIDECAR_MEMORY_LIMIT, REPRISE_HOME (= --store-dir),
  KUBECONFIG, TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE (the controller)`;

export class ConfigError extends Error {}

export interface WebhookConfig {
  port: number;
  host: string;
  tlsDir: string;
  healthPort: number;
  /** The operator's own namespace: its pods never get a sidecar. */
  podNamespace?: string;
  kubeconfig?: string;
  /**
   * The snapshot store the validating webhook and the inspector read. Absent: the forwarder's
   * snapshot API (REPRISE_FORWARDER_URL) answers; neither: snapshots are not checked.
   */
  storeDir?: string;
  inject: InjectOptions;
  controller: {
    enabled: boolean;
    resyncMs: number;
    pollMs: number;
    /** With several operator replicas: only the holder of this Lease reconciles. */
    leader?: { namespace: string; identity: string; leaseDurationMs: number };
  };
  inspector: { enabled: false } | { enabled: true; port: number; token?: string; tokenFile?: string };
  help: boolean;
}

function port(name: string, text: string, min = 0): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isInteger(n) || n < min || n > 65535)
    throw new ConfigError(`${name}: expected a port ${min}-65535, got "${text}"`);
  return n;
}

function duration(name: string, text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0)
    throw new ConfigError(`${name}: expected a duration such as 30s or 5m, got "${text}"`);
  return ms;
}

export function parseWebhookConfig(argv: string[], env: NodeJS.ProcessEnv): WebhookConfig {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        'tls-dir': { type: 'string' },
        'health-port': { type: 'string' },
        'no-controller': { type: 'boolean' },
        'leader-elect': { type: 'boolean' },
        'lease-duration': { type: 'string' },
        resync: { type: 'string' },
        poll: { type: 'string' },
        kubeconfig: { type: 'string' },
        'store-dir': { type: 'string' },
        'inspector-port': { type: 'string' },
        'no-inspector': { type: 'boolean' },
        'inspector-token-file': { type: 'string' },
        help: { type: 'boolean' },
      },
    }));
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  const e = (name: string) => (env[name] === '' ? undefined : env[name]);
  const pick = (flag: string | undefined, envName: string) =>
    flag !== undefined
      ? { text: flag, name: '--' }
      : e(envName) !== undefined
        ? { text: e(envName)!, name: envName }
        : undefined;
  const portOf = (flag: string | undefined, flagName: string, envName: string, fallback: number) => {
    const v = pick(flag, envName);
    return v ? port(v.name === '--' ? `--${flagName}` : envName, v.text) : fallback;
  };
  const help = values.help === true;

  const image = e('REPRISE_SIDECAR_IMAGE') ?? e('REPRISE_IMAGE');
  if (!image && !help)
    throw new ConfigError(
      'REPRISE_IMAGE: required: the Reprise image the injected sidecar runs (e.g. ghcr.io/you/reprise:0.1.0)',
    );
  const forwarderUrl = e('REPRISE_FORWARDER_URL');
  if (forwarderUrl !== undefined && !/^https?:\/\/[^/]/.test(forwarderUrl))
    throw new ConfigError(
      `REPRISE_FORWARDER_URL: expected an http(s) URL such as http://reprise-forwarder.reprise:8888, got "${forwarderUrl}"`,
    );
  const pullPolicy = e('REPRISE_IMAGE_PULL_POLICY');
  if (pullPolicy !== undefined && !['Always', 'IfNotPresent', 'Never'].includes(pullPolicy))
    throw new ConfigError(
      `REPRISE_IMAGE_PULL_POLICY: expected Always, IfNotPresent or Never, got "${pullPolicy}"`,
    );
  const quantity = (name: string, fallback?: string) => {
    const v = e(name);
    if (v === undefined) return fallback;
    if (!/^[+]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+|[numkKMGTPE]i?|m)?$/.test(v))
      throw new ConfigError(`${name}: expected a quantity such as 10m or 32Mi, got "${v}"`);
    return v;
  };
  const d = DEFAULT_INJECT_OPTIONS;
  const sidecarPort = (name: string, fallback: number) => (e(name) ? port(name, e(name)!, 1) : fallback);
  const inject: InjectOptions = {
    image: image ?? '',
    ...(pullPolicy ? { imagePullPolicy: pullPolicy } : {}),
    ...(e('REPRISE_INIT_IMAGE') ? { initImage: e('REPRISE_INIT_IMAGE') } : {}),
    ...(forwarderUrl ? { forwarderUrl: forwarderUrl.replace(/\/+$/, '') } : {}),
    adminPort: sidecarPort('REPRISE_SIDECAR_ADMIN_PORT', d.adminPort),
    inPort: sidecarPort('REPRISE_SIDECAR_IN_PORT', d.inPort),
    outPort: sidecarPort('REPRISE_SIDECAR_OUT_PORT', d.outPort),
    caSecret: e('REPRISE_CA_SECRET') ?? CA_VOLUME,
    resources: {
      cpuRequest: quantity('REPRISE_SIDECAR_CPU_REQUEST', d.resources.cpuRequest),
      memoryRequest: quantity('REPRISE_SIDECAR_MEMORY_REQUEST', d.resources.memoryRequest),
      cpuLimit: quantity('REPRISE_SIDECAR_CPU_LIMIT'),
      memoryLimit: quantity('REPRISE_SIDECAR_MEMORY_LIMIT'),
    },
  };
  for (const k of Object.keys(inject.resources) as (keyof InjectOptions['resources'])[])
    if (inject.resources[k] === undefined) delete inject.resources[k];

  const controllerEnabled = values['no-controller'] !== true;
  if (controllerEnabled && !e('TEMPORAL_ADDRESS') && !help)
    throw new ConfigError(
      'TEMPORAL_ADDRESS: required by the controller (host:port of the Temporal frontend); or pass --no-controller to serve only the webhooks',
    );

  const inspectorEnabled =
    values['no-inspector'] !== true && !/^(0|false|no)$/i.test(e('INSPECTOR_ENABLED') ?? '');
  let inspector: WebhookConfig['inspector'] = { enabled: false };
  if (inspectorEnabled) {
    const tokenFile = values['inspector-token-file'] ?? e('INSPECTOR_TOKEN_FILE');
    const token = e('INSPECTOR_TOKEN');
    if (!token && !tokenFile && !help)
      throw new ConfigError(
        'INSPECTOR_TOKEN: required by the inspector (or INSPECTOR_TOKEN_FILE / --inspector-token-file); or pass --no-inspector',
      );
    inspector = {
      enabled: true,
      port: portOf(values['inspector-port'], 'inspector-port', 'INSPECTOR_PORT', 8080),
      ...(token ? { token } : {}),
      ...(tokenFile ? { tokenFile: path.resolve(tokenFile) } : {}),
    };
  }
  const storeDir = values['store-dir'] ?? e('REPRISE_HOME');
  return {
    port: portOf(values.port, 'port', 'WEBHOOK_PORT', 9443),
    host: values.host ?? e('WEBHOOK_HOST') ?? '0.0.0.0',
    tlsDir: path.resolve(values['tls-dir'] ?? e('TLS_DIR') ?? '/etc/reprise/tls'),
    healthPort: portOf(values['health-port'], 'health-port', 'HEALTH_PORT', 8081),
    ...(e('POD_NAMESPACE') ? { podNamespace: e('POD_NAMESPACE') } : {}),
    ...(values.kubeconfig ? { kubeconfig: path.resolve(values.kubeconfig) } : {}),
    ...(storeDir ? { storeDir: path.resolve(storeDir) } : {}),
    inject,
    controller: {
      enabled: controllerEnabled,
      resyncMs: values.resync ? duration('--resync', values.resync) : 5 * 60_000,
      pollMs: values.poll ? duration('--poll', values.poll) : 2_000,
      ...(values['leader-elect']
        ? {
            leader: {
              namespace: e('POD_NAMESPACE') ?? 'default',
              identity: e('POD_NAME') ?? `${hostname()}-${process.pid}`,
              leaseDurationMs: values['lease-duration']
                ? duration('--lease-duration', values['lease-duration'])
                : 15_000,
            },
          }
        : {}),
    },
    inspector,
    help,
  };
}
