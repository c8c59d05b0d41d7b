/** Where Reprise keeps its state on this machine. */
import path from 'node:path';

/** REPRISE_HOME, default `./.reprise` relative to the working directory. */
export function repriseHome(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.REPRISE_HOME || '.reprise');
}

export const snapshotsDir = (home: string) => path.join(home, 'snapshots');
/** Pid files and ports of processes Reprise started, one folder per capture/replay. */
export const runDir = (home: string) => path.join(home, 'run');
/** The CA used for TLS interception: generated once, kept. */
export const caDir = (home: string) => path.join(home, 'ca');
/** One folder per replay: observed.ndjson.gz, report.json, report.html, logs/. */
export const replaysDir = (home: string) => path.join(home, 'replays');
export const replayDir = (home: string, replayId: string) => path.join(home, 'replays', replayId);
/** `-2` for replica index 1 of a split load (load.replicas), nothing for a lone generator. */
const replicaSuffix = (replica?: number) => (replica === undefined ? '' : `-${replica + 1}`);
/** What the generator (or replica `replica`, 0-based) observed during a replay (read by the analyzer). */
export const observedFile = (home: string, replayId: string, replica?: number) =>
  path.join(replayDir(home, replayId), `observed${replicaSuffix(replica)}.ndjson.gz`);
/** The generator's summary, when it ran where the orchestrator cannot read its output (a pod). */
export const generatorSummaryFile = (home: string, replayId: string, replica?: number) =>
  path.join(replayDir(home, replayId), `generator-summary${replicaSuffix(replica)}.json`);
/** The same file names in a bucket's replay folder. */
export const observedName = (replica?: number) => `observed${replicaSuffix(replica)}.ndjson.gz`;
export const summaryName = (replica?: number) => `generator-summary${replicaSuffix(replica)}.json`;
