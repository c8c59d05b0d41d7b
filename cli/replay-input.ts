/**
 * Builds a replay's input from `--config FILE` (JSON or YAML, the replayWorkflow input shape)
 * and flags, flags winning; validated here so a bad value is refused before anything starts.
 */
import { readDataFile } from '../src/base/rules-file.js';
import { mergeLoadFlags } from '../src/config/load-flags.js';
import { ReplayInput } from '../src/config/replay.js';
import { describeZodIssues } from '../src/base/issues.js';
import { CliError, UsageError } from './errors.js';

export interface ReplayFlags {
  target?: string;
  app?: string;
  mode?: string;
  rate?: number;
  speed?: string;
  connections?: number;
  duration?: string;
  config?: string;
}

/** Which flag sets which field, so a validation error can name the flag the user typed. */
const FLAG_FOR_FIELD: Record<string, string> = {
  'target.url': '--target',
  'target.app.command': '--app',
  mode: '--mode',
  'load.rate': '--rate',
  'load.speed': '--speed',
  'load.connections': '--connections',
  'load.duration': '--duration',
  snapshotId: 'SNAPSHOT',
};

async function readConfig(file: string): Promise<Record<string, unknown>> {
  let value: unknown;
  try {
    value = await readDataFile(file);
  } catch (err) {
    throw new CliError(`--config ${(err as Error).message}`, 2);
  }
  if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  throw new CliError(`--config ${file}: expected an object (the replayWorkflow input shape)`, 2);
}

export async function buildReplayInput(snapshotId: string, flags: ReplayFlags): Promise<ReplayInput> {
  const base = flags.config ? await readConfig(flags.config) : {};
  const target = { ...(base.target as object | undefined) } as Record<string, unknown>;
  if (flags.target) target.url = flags.target;
  if (flags.app) {
    const port = flags.target ? new URL(flags.target).port : undefined;
    target.app = {
      ...(target.app as object | undefined),
      command: flags.app,
      env: port ? { PORT: port } : {},
    };
  }
  const { rate, speed, connections, duration } = flags;
  const load = mergeLoadFlags(base.load, { rate, speed, connections, duration });
  const raw = { ...base, snapshotId, target, load, ...(flags.mode ? { mode: flags.mode } : {}) };
  const parsed = ReplayInput.safeParse(raw);
  if (!parsed.success) {
    const named = parsed.error.issues.map((i) => {
      const field = i.path.map(String).join('.');
      const flag = FLAG_FOR_FIELD[field];
      return flag ? { ...i, path: [`${flag} (${field})`] } : i;
    });
    throw new UsageError(`invalid replay: ${describeZodIssues(named)}`);
  }
  return parsed.data;
}
