/**
 * Responder process: answers the app's outbound calls from a snapshot's recorded outbound
 * pairs. Prints one JSON ready line on stdout once listening; on SIGTERM/SIGINT prints a
 * stopped line with the match stats and exits 0. Bad flags exit 2 naming the flag.
 */
import { parseArgs } from 'node:util';
import { parseDuration } from '../src/base/duration.js';
import { ResponderConfig } from '../src/config/replay.js';
import { log } from '../src/base/log.js';
import { caDir, repriseHome } from '../src/base/paths.js';
import { startResponder, type ResponderConfigInput } from '../src/responder/index.js';
import { warmUp } from '../src/responder/warm-up.js';
import { loadRulesFile, RulesFileError } from '../src/base/rules-file.js';
import { openSnapshotStore } from '../src/store/open.js';
import { HttpSnapshotStore } from '../src/store/http-store.js';
import { SnapshotNotFoundError } from '../src/store/types.js';
import { workerArgs } from '../src/base/worker-args.js';

const USAGE = `usage: responder --snapshot ID [--home DIR | --snapshot-url URL] [--port 0] [--host 127.0.0.1] [--config FILE]
                 [--miss-policy 404|passthrough] [--latency none|recorded|<ms>] [--ca-dir DIR]
                 [--max-misses 1000]`;

class UsageError extends Error {}

function integerFlag(flag: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`${flag}: expected an integer ${min}-${max}, got "${text}"`);
  }
  return n;
}

function latencyFlag(text: string): ResponderConfig['latency'] {
  if (text === 'none' || text === 'recorded') return text;
  const ms = /^\d+(\.\d+)?$/.test(text) ? Number(text) : parseDuration(text);
  if (ms === undefined)
    throw new UsageError(`--latency: expected none, recorded or milliseconds, got "${text}"`);
  return { fixedMs: ms };
}

function missPolicyFlag(text: string): ResponderConfig['missPolicy'] {
  if (text === '404' || text === 'passthrough') return text;
  throw new UsageError(`--miss-policy: expected 404 or passthrough, got "${text}"`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    // `--standby`: loaded now, arguments later (src/base/worker-args.ts), the TLS key made meanwhile.
    args: await workerArgs(undefined, () => warmUp(caDir(repriseHome()))),
    options: {
      snapshot: { type: 'string' },
      home: { type: 'string' },
      // In a cluster the snapshot comes from the forwarder's snapshot API.
      'snapshot-url': { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      config: { type: 'string' },
      'miss-policy': { type: 'string' },
      latency: { type: 'string' },
      'ca-dir': { type: 'string' },
      'max-misses': { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    return;
  }
  if (!values.snapshot) throw new UsageError('--snapshot: required');
  if (values.home && values['snapshot-url'])
    throw new UsageError('--home and --snapshot-url are exclusive: give one');
  const home = values.home ?? repriseHome();
  const config: ResponderConfigInput = values.config
    ? await loadRulesFile(values.config, ResponderConfig).catch((err: unknown) => {
        throw err instanceof RulesFileError ? new UsageError(`--config: ${err.message}`) : err;
      })
    : {};
  if (values['miss-policy'] !== undefined) config.missPolicy = missPolicyFlag(values['miss-policy']);
  if (values.latency !== undefined) config.latency = latencyFlag(values.latency);
  const port = values.port === undefined ? 0 : integerFlag('--port', values.port, 0, 65535);
  const maxMisses =
    values['max-misses'] === undefined
      ? undefined
      : integerFlag('--max-misses', values['max-misses'], 0, 1e9);

  const responder = await startResponder({
    store: values['snapshot-url'] ? new HttpSnapshotStore(values['snapshot-url']) : openSnapshotStore(home),
    snapshotId: values.snapshot,
    port,
    host: values.host ?? '127.0.0.1',
    config,
    caDir: values['ca-dir'] ?? caDir(home),
    maxMisses,
  }).catch((err: unknown) => {
    throw err instanceof SnapshotNotFoundError ? new UsageError(`--snapshot: ${err.message}`) : err;
  });
  const { signatures, responses } = responder.index;
  process.stdout.write(
    JSON.stringify({
      event: 'ready',
      port: responder.port,
      pid: process.pid,
      signatures,
      responses,
      caCert: responder.caCertPath,
    }) + '\n',
  );

  const stop = async (signal: string) => {
    await responder.close().catch((err: unknown) => log.warn({ err }, 'responder did not close cleanly'));
    const line =
      JSON.stringify({ event: 'stopped', signal, pid: process.pid, stats: responder.stats() }) + '\n';
    process.stdout.write(line, () => process.exit(0));
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

main().catch((err: unknown) => {
  const usage = err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
  process.stderr.write(`responder: ${(err as Error).message}\n${usage ? USAGE + '\n' : ''}`);
  process.exit(usage ? 2 : 1);
});
