/**
 * Forwarder process (docs/contracts.md). Prints one ready line on stdout when listening; on
 * SIGTERM/SIGINT it stops, aborts every recording that was never sealed (no partial snapshot
 * may look complete), prints a stopped line and exits 0.
 */
import { parseArgs } from 'node:util';
import { loadDlpRules, DEFAULT_DLP_RULES } from '../src/dlp/index.js';
import { FilterRules, loadFilterRules } from '../src/filters/index.js';
import { DEFAULT_FORWARDER_PORT, DEFAULT_MAX_BATCH_BYTES, startForwarder } from '../src/forwarder/index.js';
import { log } from '../src/base/log.js';
import { repriseHome } from '../src/base/paths.js';
import { RulesFileError } from '../src/base/rules-file.js';
import { openStores } from '../src/store/open.js';

const USAGE = `usage: forwarder [--port 4150] [--host 127.0.0.1] [--home DIR] [--dlp FILE | --no-dlp]
                 [--filters FILE] [--max-batch-bytes 64MiB] [--no-grpc-reflection]
                 [--ingest-threads N (default: 0 on 1-2 CPUs, else CPUs - 1, at most 4)]`;

class UsageError extends Error {}

function parsePort(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new UsageError(`--port: expected 0-65535, got "${text}"`);
  return n;
}

function parseThreads(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n > 64)
    throw new UsageError(`--ingest-threads: expected 0-64 (0: decode on the main thread), got "${text}"`);
  return n;
}

/** `1048576`, `64MiB`, `512k`, `1GB`: binary units. */
export function parseBytes(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]?)(i?b)?$/i.exec(text.trim());
  if (!m) throw new UsageError(`--max-batch-bytes: expected a size such as 67108864 or 64MiB, got "${text}"`);
  const n = Math.floor(Number(m[1]) * 1024 ** ' kmg'.indexOf((m[2] || ' ').toLowerCase()));
  if (n < 1) throw new UsageError(`--max-batch-bytes: expected at least 1 byte, got "${text}"`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      home: { type: 'string' },
      dlp: { type: 'string' },
      'no-dlp': { type: 'boolean' },
      filters: { type: 'string' },
      'max-batch-bytes': { type: 'string' },
      'no-grpc-reflection': { type: 'boolean' },
      'ingest-threads': { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    return;
  }
  if (values.dlp && values['no-dlp']) throw new UsageError('--dlp and --no-dlp are exclusive: give one');
  const home = values.home ?? repriseHome();
  const stores = openStores(home);
  const forwarder = await startForwarder({
    port: values.port === undefined ? DEFAULT_FORWARDER_PORT : parsePort(values.port),
    host: values.host ?? '127.0.0.1',
    home,
    store: stores.snapshots,
    results: stores.results,
    dlp: values['no-dlp'] ? false : values.dlp ? await loadDlpRules(values.dlp) : DEFAULT_DLP_RULES,
    filters: values.filters ? await loadFilterRules(values.filters) : FilterRules.parse({}),
    maxBatchBytes: values['max-batch-bytes']
      ? parseBytes(values['max-batch-bytes'])
      : DEFAULT_MAX_BATCH_BYTES,
    grpcReflection: !values['no-grpc-reflection'],
    ingestThreads:
      values['ingest-threads'] === undefined ? undefined : parseThreads(values['ingest-threads']),
  });
  process.stdout.write(JSON.stringify({ event: 'ready', port: forwarder.port, pid: process.pid }) + '\n');

  const stop = async (signal: string) => {
    const aborted = await forwarder.close();
    if (aborted.length) log.warn({ aborted }, 'aborted recordings that were never sealed');
    process.stdout.write(JSON.stringify({ event: 'stopped', signal, pid: process.pid, aborted }) + '\n', () =>
      process.exit(0),
    );
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

main().catch((err: unknown) => {
  const usage =
    err instanceof UsageError ||
    err instanceof RulesFileError ||
    (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
  process.stderr.write(`forwarder: ${(err as Error).message}\n${usage ? USAGE + '\n' : ''}`);
  process.exit(usage ? 2 : 1);
});
