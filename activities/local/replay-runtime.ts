/**
 * The local runtime of a replay: the responder, the generator and (with `--app`) the service
 * under test are processes on this machine, described by pid files in
 * `$REPRISE_HOME/run/<replayId>/` so a retried activity or a new worker finds them again.
 * The collector is the app's own log file: its stdout and stderr go there.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { AppConfig, WorkloadRef, ReplayInput, ResponderConfig } from '../../src/config/replay.js';
import type { ResponderStats } from '../../src/model/replay.js';
import type { GeneratorSummary } from '../../src/generator/index.js';
import { caDir, observedFile, replayDir, runDir } from '../../src/base/paths.js';
import { shardText, type Shard } from '../../src/config/replicas.js';
import { workerNodeOptions } from '../../src/base/node-options.js';
import { projectRoot } from '../../src/base/project-root.js';
import type {
  ComponentLogs,
  GeneratorProgress,
  GeneratorRequest,
  ReplayRef,
  ReplayRuntime,
} from '../runtime.js';
import { RuntimeError, type RuntimeContext } from '../runtime.js';
import { Supervisor } from './supervisor.js';
import { logTail, type ProcessRecord } from './processes.js';
import { Standbys } from './standby.js';
import { jvmAppEnv } from '../../src/jvm/local.js';

const STOP_GRACE_MS = 5_000;
const LOG_LINES_KEPT = 200;

/** The workers a replay starts, with the environment each gets on top of the supervisor's. */
const WORKERS = {
  responder: () => workerNodeOptions('responder'),
  generator: () => ({}),
} as const;
type WorkerName = keyof typeof WORKERS;

export interface LocalReplayOptions {
  /**
   * Keep a warm standby of the responder and the generator (activities/local/standby.ts): a
   * replay then starts in well under a second instead of about two. For a long-lived worker.
   */
  standby?: boolean;
}

/** The most of an ended app's last line a failure message quotes (the report keeps its log). */
const MAX_LAST_LINE_CHARS = 240;

export class LocalReplayRuntime implements ReplayRuntime {
  private readonly supervisor: Supervisor;
  private readonly standbys: Standbys | undefined;

  constructor(
    private readonly home: string,
    opts: LocalReplayOptions = {},
  ) {
    this.standbys = opts.standby ? new Standbys(path.join(runDir(home), 'standby')) : undefined;
    this.supervisor = new Supervisor({ home, standbys: this.standbys });
    this.prepareStandby('responder');
    this.prepareStandby('generator');
  }

  /** Makes sure a standby of `name` waits for the next replay (when standbys are on and it is built). */
  private prepareStandby(name: WorkerName): void {
    const file = path.join(projectRoot, 'dist/workers', `${name}.js`);
    if (!this.standbys || !existsSync(file)) return;
    this.standbys.prepare(file, this.supervisor.env({ name, env: WORKERS[name]() }));
  }

  private script(name: string): string {
    const file = path.join(projectRoot, 'dist/workers', `${name}.js`);
    if (!existsSync(file)) throw new RuntimeError(`${file} is missing: run \`npm run build\``, 'NotBuilt');
    return file;
  }

  observedPath(replayId: string): string {
    return observedFile(this.home, replayId);
  }

  async startResponder(
    req: ReplayRef & { snapshotId: string; config: ResponderConfig },
    ctx: RuntimeContext,
  ): Promise<{ url: string }> {
    const dir = this.supervisor.runFolder(req.replayId);
    await mkdir(dir, { recursive: true });
    const configFile = path.join(dir, 'responder-config.json');
    await writeFile(configFile, JSON.stringify(req.config));
    const record = await this.supervisor.ensure(
      req.replayId,
      {
        name: 'responder',
        script: this.script('responder'),
        args: ['--snapshot', req.snapshotId, '--home', this.home, '--port', '0', '--config', configFile],
        health: (r) =>
          typeof r.ready.port === 'number' ? `http://127.0.0.1:${r.ready.port}/__reprise/healthz` : undefined,
        env: WORKERS.responder(),
      },
      ctx,
    );
    return { url: `http://127.0.0.1:${record.ready.port}` };
  }

  async responderStats(req: ReplayRef, _ctx: RuntimeContext): Promise<ResponderStats | undefined> {
    const record = await this.supervisor.live(req.replayId, 'responder');
    if (!record) return undefined;
    const res = await fetch(`http://127.0.0.1:${record.ready.port}/__reprise/stats`, {
      signal: AbortSignal.timeout(5_000),
    });
    if (!res.ok) throw new RuntimeError(`responder stats: HTTP ${res.status}`, 'ResponderStats', true);
    return (await res.json()) as ResponderStats;
  }

  async stopResponder(req: ReplayRef, ctx: RuntimeContext): Promise<void> {
    await this.supervisor.stop(req.replayId, 'responder', STOP_GRACE_MS, ctx);
    // A replay without a generator (responder-only) replaces its standby here.
    this.prepareStandby('responder');
  }

  /** Locally the app's log file is the collection; nothing to start. */
  async startCollector(): Promise<void> {}
  async stopCollector(): Promise<void> {}

  async collectLogs(req: ReplayRef): Promise<ComponentLogs[]> {
    const logs: ComponentLogs[] = [];
    // Replicas of a split load log as generator-1, generator-2, ...
    const files = await readdir(this.supervisor.runFolder(req.replayId)).catch(() => [] as string[]);
    const replicas = files
      .map((f) => /^(generator-\d+)\.log$/.exec(f)?.[1])
      .filter((n): n is string => n !== undefined)
      .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
    for (const name of ['app', 'responder', 'generator', ...replicas]) {
      const text = await logTail(this.supervisor.logFile(req.replayId, name), LOG_LINES_KEPT);
      if (text) logs.push({ name, lines: text.split('\n') });
    }
    return logs;
  }

  async startApp(
    req: ReplayRef & { app?: AppConfig; workload?: WorkloadRef; targetUrl?: string; responderUrl?: string },
    ctx: RuntimeContext,
  ): Promise<{ targetUrl?: string }> {
    if (!req.app) {
      throw new RuntimeError(
        'target.workload: a workload needs the Kubernetes runtime (REPRISE_RUNTIME=kubernetes); locally, give target.app or target.url',
        'InvalidInput',
      );
    }
    const proxy = req.responderUrl ? proxyEnv(req.responderUrl, path.join(caDir(this.home), 'ca.pem')) : {};
    // A JVM ignores HTTP_PROXY and NODE_EXTRA_CA_CERTS: JAVA_TOOL_OPTIONS, the user's own kept.
    const jvm = req.responderUrl
      ? await jvmAppEnv({
          command: req.app.command,
          userOptions: req.app.env.JAVA_TOOL_OPTIONS ?? process.env.JAVA_TOOL_OPTIONS,
          proxyUrl: req.responderUrl,
          caDir: caDir(this.home),
        })
      : {};
    const port = req.targetUrl ? new URL(req.targetUrl).port : '';
    await this.supervisor.ensure(
      req.replayId,
      {
        name: 'app',
        shell: req.app.command,
        cwd: req.app.cwd,
        env: { ...(port ? { PORT: port } : {}), ...req.app.env, ...proxy, ...jvm },
        // Readiness is the target answering (waitForTarget), not a ready line.
        awaitReadyLine: false,
      },
      ctx,
    );
    return {};
  }

  async appEnded(req: ReplayRef): Promise<{ how?: string; lastLine?: string } | undefined> {
    const ended = await this.supervisor.ended(req.replayId, 'app');
    if (!ended) return undefined;
    const tail = await logTail(this.supervisor.logFile(req.replayId, 'app'), 20);
    const lastLine = tail
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .pop()
      ?.slice(0, MAX_LAST_LINE_CHARS);
    return { ...ended, lastLine };
  }

  stopApp(req: ReplayRef, ctx: RuntimeContext): Promise<void> {
    return this.supervisor.stop(req.replayId, 'app', STOP_GRACE_MS, ctx);
  }

  /**
   * Starts the generator process (or re-attaches to the one a lost worker started) and waits
   * for its `done` line, heartbeating. On cancel it stops the generator, which still writes
   * its summary; the activity then reports the cancellation.
   */
  async runGenerator(req: GeneratorRequest, ctx: RuntimeContext): Promise<GeneratorSummary> {
    const dir = this.supervisor.runFolder(req.replayId);
    await mkdir(dir, { recursive: true });
    await mkdir(replayDir(this.home, req.replayId), { recursive: true });
    const name = generatorName(req.shard);
    const configFile = path.join(dir, `${name}-config.json`);
    await writeFile(configFile, JSON.stringify({ load: req.load, transforms: req.transforms }));
    const replica = req.shard
      ? ['--shard', shardText(req.shard), '--start-at', String(req.startAt ?? 0)]
      : [];
    const record = await this.supervisor.ensure(
      req.replayId,
      {
        name,
        script: this.script('generator'),
        args: [
          '--snapshot',
          req.snapshotId,
          '--home',
          this.home,
          '--target',
          req.targetUrl,
          '--out',
          observedFile(this.home, req.replayId, req.shard?.index),
          // With a bucket store the generator uploads its results there under this id.
          '--replay',
          req.replayId,
          '--config',
          configFile,
          ...replica,
        ],
        env: WORKERS.generator(),
        awaitReadyLine: false,
        // A finished generator is not restarted by a retry: its done line is the result.
        reuseFinished: true,
      },
      ctx,
    );
    try {
      return await this.awaitGenerator(req.replayId, name, record, ctx);
    } finally {
      // The load is over: new standbys load now, not while a replay sends (the responder's too,
      // so that it is warm by the next replay even when this one's teardown takes a while).
      this.prepareStandby('generator');
      this.prepareStandby('responder');
    }
  }

  /** The generator's summary from its done line, once it has printed it. */
  private async awaitGenerator(
    replayId: string,
    name: string,
    record: ProcessRecord,
    ctx: RuntimeContext,
  ): Promise<GeneratorSummary> {
    for (;;) {
      const done = await this.lastEvent(replayId, 'done', name);
      if (done) return (done as { summary: GeneratorSummary }).summary;
      if (ctx.signal.aborted) {
        await this.supervisor.stop(replayId, name, STOP_GRACE_MS, ctx);
        throw new RuntimeError('generator cancelled', 'Cancelled', true);
      }
      if (!(await this.supervisor.isRunning(record))) {
        // The load ran but its results are not stored: running it again would send it twice.
        const lost = await this.lastEvent(replayId, 'results-not-stored', name);
        if (lost) throw new RuntimeError(`the ${name} ran, but ${String(lost.error)}`, 'ResultsNotStored');
        const tail = await logTail(this.supervisor.logFile(replayId, name));
        throw new RuntimeError(`the ${name} exited without a summary:\n${tail}`, 'GeneratorFailed', true);
      }
      ctx.heartbeat();
      await delay(250);
    }
  }

  async generatorProgress(req: ReplayRef & { shard?: Shard }): Promise<GeneratorProgress | undefined> {
    const name = generatorName(req.shard);
    const p = (await this.lastEvent(req.replayId, 'progress', name)) as
      Partial<GeneratorProgress> | undefined;
    return p ? { sent: p.sent ?? 0, done: p.done ?? 0, errors: p.errors ?? 0 } : undefined;
  }

  /** The newest NDJSON line of `event` in the generator's output. */
  private async lastEvent(
    replayId: string,
    event: string,
    name: string,
  ): Promise<Record<string, unknown> | undefined> {
    const text = await readFile(this.supervisor.logFile(replayId, name), 'utf8').catch(() => '');
    const lines = text.trimEnd().split('\n');
    for (let i = lines.length - 1; i >= 0; i--) {
      if (!lines[i].includes(`"event":"${event}"`)) continue;
      try {
        return JSON.parse(lines[i]) as Record<string, unknown>;
      } catch {
        // a line still being written
      }
    }
    return undefined;
  }

  async cleanup(req: ReplayRef & { cleanup: ReplayInput['cleanup'] }, ctx: RuntimeContext): Promise<void> {
    if (req.cleanup === 'none') return;
    await this.supervisor.stopAllOf(req.replayId, STOP_GRACE_MS, ctx);
    await rm(this.supervisor.runFolder(req.replayId), { recursive: true, force: true });
    // `all` also removes the replay's bulky data; the report, its result, stays.
    if (req.cleanup === 'all') await removeObserved(replayDir(this.home, req.replayId));
  }

  /** Ends the idle standbys (the replays' own processes run on). */
  stopStandbys(): void {
    this.standbys?.stopAll();
  }

  /** For an embedded worker that dies with its command. */
  stopAll(): Promise<void> {
    this.standbys?.stopAll();
    return this.supervisor.stopEverything();
  }
}

/** Every observed file of the replay (one per replica of a split load). */
async function removeObserved(dir: string): Promise<void> {
  const files = await readdir(dir).catch(() => [] as string[]);
  for (const f of files)
    if (/^observed(-\d+)?\.ndjson\.gz$/.test(f)) await rm(path.join(dir, f), { force: true });
}

/** The generator's process name: `generator`, or `generator-2` for replica 2 of a split load. */
function generatorName(shard: Shard | undefined): string {
  return shard ? `generator-${shard.index + 1}` : 'generator';
}

/** The env that points an app's outbound HTTP(S) at the responder and makes it trust the Reprise CA. */
function proxyEnv(responderUrl: string, caFile: string): Record<string, string> {
  const env: Record<string, string> = {
    HTTP_PROXY: responderUrl,
    HTTPS_PROXY: responderUrl,
    http_proxy: responderUrl,
    https_proxy: responderUrl,
    NO_PROXY: '',
    no_proxy: '',
  };
  if (existsSync(caFile)) env.NODE_EXTRA_CA_CERTS = caFile;
  return env;
}
