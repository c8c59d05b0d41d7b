/**
 * Builds a replay's input from `--config FILE` (JSON or YAML, the replayWorkflow input shape)
 * and flags, flags winning; validated here so a bad value is refused before anything starts.
 */
import { readDataFile } from '../src/base/rules-file.js';
import { mergeLoadFlags } from '../src/config/load-flags.js';
import { ReplayInput } from '../src/config/replay.js';
import { describeZodIssues } from '../src/base/issues.js';
import { CliError, UsageError } from './errors.js';
import type { ClusterWorkload, WorkloadFlag } from './cluster-workload.js';

export interface ReplayFlags {
  target?: string;
  app?: string;
  mode?: string;
  rate?: number;
  speed?: string;
  connections?: number;
  duration?: string;
  replicas?: number;
  config?: string;
  /** `--workload deploy/NAME` and `-n NS`: a workload of the cluster in KUBECONFIG. */
  workload?: WorkloadFlag;
  namespace?: string;
}

/**
 * Which flag sets which field, so a validation error names what the user typed: the flag when
 * it was given (SNAPSHOT always is) or when there is no config file (a field missing from the
 * flags is set with its flag), the config file otherwise.
 */
const FLAG_FOR_FIELD: Record<string, [string, keyof ReplayFlags | undefined]> = {
  'target.url': ['--target', 'target'],
  'target.app.command': ['--app', 'app'],
  'target.workload': ['--workload', 'workload'],
  mode: ['--mode', 'mode'],
  'load.rate': ['--rate', 'rate'],
  'load.speed': ['--speed', 'speed'],
  'load.connections': ['--connections', 'connections'],
  'load.duration': ['--duration', 'duration'],
  'load.replicas': ['--replicas', 'replicas'],
  snapshotId: ['SNAPSHOT', undefined],
};

function nameSource(field: string, flags: ReplayFlags): string {
  const [flag, key] = FLAG_FOR_FIELD[field] ?? [];
  if (flag && (key === undefined || flags[key] !== undefined || !flags.config)) return `${flag} (${field})`;
  return flags.config ? `${field} (in ${flags.config})` : field;
}

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

export async function buildReplayInput(
  snapshotId: string,
  flags: ReplayFlags,
  cluster?: ClusterWorkload,
): Promise<ReplayInput> {
  const base = flags.config ? await readConfig(flags.config) : {};
  const target = { ...(base.target as object | undefined) } as Record<string, unknown>;
  if (flags.target) target.url = flags.target;
  // The file may add container, service, port or routing to the workload the flags name.
  if (cluster) target.workload = { ...(target.workload as object | undefined), ...cluster.ref };
  if (flags.app) {
    // A target that does not parse is named by the validation below.
    const port = flags.target && URL.canParse(flags.target) ? new URL(flags.target).port : undefined;
    target.app = {
      ...(target.app as object | undefined),
      command: flags.app,
      env: port ? { PORT: port } : {},
    };
  }
  const { rate, speed, connections, duration } = flags;
  const load = mergeLoadFlags(base.load, { rate, speed, connections, duration });
  if (flags.replicas !== undefined) load.replicas = flags.replicas;
  const raw = { ...base, snapshotId, target, load, ...(flags.mode ? { mode: flags.mode } : {}) };
  const parsed = ReplayInput.safeParse(raw);
  if (!parsed.success) {
    const named = parsed.error.issues.map((i) => ({
      ...i,
      path: [nameSource(i.path.map(String).join('.'), flags)],
    }));
    throw new UsageError(`invalid replay: ${describeZodIssues(named)}`);
  }
  return parsed.data;
}
