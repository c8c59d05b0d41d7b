/**
 * Generator process: replays a snapshot's recorded inbound requests against a target. Prints
 * `{"event":"progress",...}` on stdout about once a second and `{"event":"done","summary":{...}}`
 * at the end; SIGTERM/SIGINT stop it promptly and it still prints done (with canceled: true),
 * then exits 0. Bad flags exit 2 naming the flag; other failures exit 1.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import {
  LOAD_FLAGS,
  mergeLoadFlags,
  NUMERIC_LOAD_FIELDS,
  type LoadField,
  type LoadFlagValues,
} from '../src/config/load-flags.js';
import { LoadConfig } from '../src/config/replay.js';
import { GeneratorConfigError, runGenerator, type TransformInput } from '../src/generator/index.js';
import { repriseHome } from '../src/base/paths.js';
import { loadRulesFile, RulesFileError } from '../src/base/rules-file.js';
import { describeZodIssues } from '../src/base/issues.js';
import { openStores } from '../src/store/open.js';
import { HttpSnapshotStore, uploadReplayResults } from '../src/store/http-store.js';
import { storeReplayResults } from '../src/store/results.js';
import { isSafeId } from '../src/base/ids.js';
import { SnapshotNotFoundError } from '../src/store/types.js';
import { parseShard } from '../src/config/replicas.js';
import { workerArgs } from '../src/base/worker-args.js';

const USAGE = `usage: generator --snapshot ID --target URL --out FILE [--home DIR | --snapshot-url URL]
                 [--upload-url URL | --replay ID] [--config FILE]
                 [--rate N | --speed 2x] [--connections N] [--duration 30s | --passes N]
                 [--timeout 10s] [--shard I/N --start-at EPOCH_MS]`;

class UsageError extends Error {}

/** The config file: `load` and `transforms`, validated in full once flags are merged in. */
const ConfigFile = z.object({
  load: z.record(z.string(), z.unknown()).optional(),
  transforms: z.array(z.unknown()).optional(),
});

function numberFlag(flag: string, text: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n))
    throw new UsageError(`--${flag}: expected a number, got "${text}"`);
  return n;
}

const emit = (line: object) =>
  new Promise<void>((resolve) => process.stdout.write(JSON.stringify(line) + '\n', () => resolve()));

async function main(): Promise<void> {
  const { values } = parseArgs({
    // `--standby`: loaded now, arguments later (src/base/worker-args.ts).
    args: await workerArgs(),
    options: {
      snapshot: { type: 'string' },
      home: { type: 'string' },
      // In a cluster: the snapshot from the forwarder, and where the results go back to.
      'snapshot-url': { type: 'string' },
      'upload-url': { type: 'string' },
      // With a bucket store (REPRISE_STORE): the replay whose results this generator uploads there.
      replay: { type: 'string' },
      target: { type: 'string' },
      out: { type: 'string' },
      config: { type: 'string' },
      rate: { type: 'string' },
      speed: { type: 'string' },
      connections: { type: 'string' },
      duration: { type: 'string' },
      passes: { type: 'string' },
      timeout: { type: 'string' },
      // One of N generators (load.replicas): its share of the recording, and when all start.
      shard: { type: 'string' },
      'start-at': { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    return;
  }
  for (const flag of ['snapshot', 'target', 'out'] as const) {
    if (!values[flag]) throw new UsageError(`--${flag}: required`);
  }
  if (values.home && values['snapshot-url'])
    throw new UsageError('--home and --snapshot-url are exclusive: give one');
  if (values['upload-url'] && values.replay)
    throw new UsageError('--upload-url and --replay are exclusive: give one');
  if (values.replay !== undefined && !isSafeId(values.replay))
    throw new UsageError(`--replay: "${values.replay}" is not a valid replay id`);
  const shard = values.shard === undefined ? undefined : parseShard(values.shard);
  if (values.shard !== undefined && !shard)
    throw new UsageError(`--shard: expected I/N with 1 <= I <= N, such as 2/4, got "${values.shard}"`);
  const startAt = values['start-at'] === undefined ? undefined : numberFlag('start-at', values['start-at']);
  const stores = values['snapshot-url'] ? undefined : openStores(values.home ?? repriseHome());
  const file = values.config
    ? await loadRulesFile(values.config, ConfigFile).catch((err: unknown) => {
        throw err instanceof RulesFileError ? new UsageError(`--config: ${err.message}`) : err;
      })
    : {};
  const flags: LoadFlagValues = {};
  for (const [field, flag] of Object.entries(LOAD_FLAGS)) {
    const text = values[flag];
    if (text !== undefined)
      flags[field as LoadField] = NUMERIC_LOAD_FIELDS.has(field) ? numberFlag(flag, text) : text;
  }
  const load = mergeLoadFlags(file.load, flags);
  const parsed = LoadConfig.safeParse(load);
  if (!parsed.success) {
    const field = String(parsed.error.issues[0].path[0] ?? '');
    const flag = (LOAD_FLAGS as Record<string, string>)[field];
    throw new UsageError(
      flag && values[flag as keyof typeof values] !== undefined
        ? `--${flag}: ${parsed.error.issues[0].message}`
        : `--config: ${describeZodIssues(parsed.error.issues, 'load')}`,
    );
  }

  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  const summary = await runGenerator({
    store: stores?.snapshots ?? new HttpSnapshotStore(values['snapshot-url']!),
    snapshotId: values.snapshot!,
    target: values.target!,
    load: parsed.data,
    // Checked by runGenerator; a bad one names its field (transforms.0.key).
    transforms: file.transforms as TransformInput[] | undefined,
    observedPath: values.out!,
    signal: controller.signal,
    shard,
    startAt,
    onProgress: (p) => void emit({ event: 'progress', ...p }),
  });
  if (values['upload-url'])
    await uploadReplayResults(values['upload-url'], values.out!, summary, shard?.index);
  // Locally the results are the --out file already; a bucket store gets them uploaded.
  if (values.replay && stores?.results.remote) {
    await storeReplayResults(stores.results, values.replay, values.out!, summary, shard?.index).catch(
      async (err: unknown) => {
        await emit({ event: 'results-not-stored', error: (err as Error).message });
        throw err;
      },
    );
  }
  await emit({ event: 'done', summary });
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    let message = (err as Error).message;
    let usage =
      err instanceof UsageError ||
      err instanceof RulesFileError ||
      (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true;
    if (err instanceof SnapshotNotFoundError) {
      message = `--snapshot: ${message}`;
      usage = true;
    } else if (err instanceof GeneratorConfigError) {
      // The target, or a transform from the config file.
      message = err.field === 'target' ? `--target: ${err.detail}` : `--config: ${message}`;
      usage = true;
    }
    process.stderr.write(`generator: ${message}\n${usage ? USAGE + '\n' : ''}`);
    process.exit(usage ? 2 : 1);
  },
);
