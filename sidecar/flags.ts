/** The sidecar's command line (docs/contracts.md) into SidecarOptions. */
import { parseArgs } from 'node:util';
import type { SidecarOptions } from './options.js';

export const USAGE = `usage: sidecar --app-port P [--app-host 127.0.0.1] [--in-port 4143] [--out-port 4140]
               [--admin-port 4144] [--forwarder URL] [--service NAME] [--tls-intercept]
               [--ca-dir DIR] [--insecure-upstream] [--max-body 1MiB] [--buffer-pairs 10000]
               [--buffer-bytes 64MiB] [--batch-pairs 500] [--flush-ms 200] [--drain-timeout 5000]
               [--ignore-paths /healthz,/readyz,/livez,/metrics] [--ignore-hosts a,b]
               [--ignore-ports 9000,9001] [--ignore-src-ips 10.0.0.1,...]
               [--in-host H] [--out-host 127.0.0.1] [--admin-host H]
ports: 0 = ephemeral, -1 = disabled (--out-port, --in-port, --admin-port)`;

export class UsageError extends Error {}

const STRING_FLAGS = [
  'app-port',
  'app-host',
  'in-port',
  'in-host',
  'out-port',
  'out-host',
  'admin-port',
  'admin-host',
  'forwarder',
  'service',
  'ca-dir',
  'max-body',
  'buffer-pairs',
  'buffer-bytes',
  'batch-pairs',
  'flush-ms',
  'drain-timeout',
  'ignore-paths',
  'ignore-hosts',
  'ignore-ports',
  'ignore-src-ips',
] as const;

export function parseSidecarFlags(argv: string[]): SidecarOptions & { help?: boolean } {
  const options: Record<string, { type: 'string' | 'boolean' }> = {
    'tls-intercept': { type: 'boolean' },
    'insecure-upstream': { type: 'boolean' },
    help: { type: 'boolean' },
  };
  for (const f of STRING_FLAGS) options[f] = { type: 'string' };
  const { values: v } = parseArgs({ args: joinNegativeValues(argv), options, strict: true });
  const s = (name: (typeof STRING_FLAGS)[number]) => v[name] as string | undefined;
  const int = (name: (typeof STRING_FLAGS)[number], min: number, max: number) => {
    const text = s(name);
    return text === undefined ? undefined : integer(`--${name}`, text, min, max);
  };
  const size = (name: (typeof STRING_FLAGS)[number]) => {
    const text = s(name);
    return text === undefined ? undefined : bytes(`--${name}`, text);
  };
  const forwarder = s('forwarder');
  if (forwarder !== undefined && !/^https?:\/\/[^/]/.test(forwarder)) {
    throw new UsageError(`--forwarder: expected an http(s) URL, got "${forwarder}"`);
  }
  const ignorePorts = list(s('ignore-ports'))?.map((p) => integer('--ignore-ports', p, 1, 65535));
  const opts: SidecarOptions & { help?: boolean } = {
    help: v.help === true,
    appPort: int('app-port', 1, 65535),
    appHost: s('app-host'),
    inPort: int('in-port', -1, 65535),
    inHost: s('in-host'),
    outPort: int('out-port', -1, 65535),
    outHost: s('out-host'),
    adminPort: int('admin-port', -1, 65535),
    adminHost: s('admin-host'),
    forwarder,
    service: s('service'),
    tlsIntercept: v['tls-intercept'] === true,
    insecureUpstream: v['insecure-upstream'] === true,
    caDir: s('ca-dir'),
    maxBody: size('max-body'),
    bufferPairs: int('buffer-pairs', 1, 1e9),
    bufferBytes: size('buffer-bytes'),
    batchPairs: int('batch-pairs', 1, 1e6),
    flushMs: int('flush-ms', 1, 3_600_000),
    drainTimeoutMs: int('drain-timeout', 0, 3_600_000),
    ignorePaths: list(s('ignore-paths')),
    ignoreHosts: list(s('ignore-hosts')),
    ignorePorts,
    ignoreSrcIps: list(s('ignore-src-ips')),
  };
  if (!opts.help && opts.inPort !== -1 && opts.appPort === undefined) {
    throw new UsageError('--app-port: required while the inbound proxy is on (--in-port is not -1)');
  }
  return opts;
}

/** parseArgs reads `--out-port -1` as a missing value: glue such numbers to their flag. */
function joinNegativeValues(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const next = argv[i + 1];
    if (argv[i].startsWith('--') && !argv[i].includes('=') && next !== undefined && /^-\d+$/.test(next)) {
      out.push(`${argv[i]}=${next}`);
      i++;
    } else out.push(argv[i]);
  }
  return out;
}

function integer(flag: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`${flag}: expected an integer ${min}-${max}, got "${text}"`);
  }
  return n;
}

/** `1048576`, `64MiB`, `512k`, `1GB`: binary units. */
function bytes(flag: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]?)(i?b)?$/i.exec(text.trim());
  const n = m ? Math.floor(Number(m[1]) * 1024 ** ' kmg'.indexOf((m[2] || ' ').toLowerCase())) : NaN;
  if (!(n >= 1)) throw new UsageError(`${flag}: expected a size such as 1048576 or 1MiB, got "${text}"`);
  return n;
}

/** `a,b` -> ['a','b']; an empty value means an empty list (e.g. `--ignore-paths=` records everything). */
function list(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  return text
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');
}
