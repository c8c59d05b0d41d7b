/** `reprise replay SNAPSHOT --target URL ...` and `reprise replay ls`. */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { Command, Option } from 'commander';
import type { WorkflowHandle } from '@temporalio/client';
import { newId } from '../../src/base/new-id.js';
import { repriseHome, replayDir, replaysDir } from '../../src/base/paths.js';
import type { ReplayProgress, ReplayResult } from '../../src/config/replay.js';
import { readReport } from '../../src/report/write.js';
import { CliError } from '../errors.js';
import { durationFlag, positiveIntFlag, positiveNumberFlag } from '../flags.js';
import { notice, printJson, printLine, printTable, style } from '../output.js';
import { watchWorkflow } from '../watch.js';
import { buildReplayInput, type ReplayFlags } from '../replay-input.js';
import { checkSnapshotFirst } from '../store.js';
import { lastActivityFailure } from '../workflow-failure.js';
import {
  connectClusterTemporal,
  namespaceFlag,
  resolveClusterWorkload,
  workloadFlag,
} from '../cluster-workload.js';

/** 0 only when the verdict is Passed; 3 when goals are missed; 1 for an error or a cancel. */
export function exitCodeFor(verdict: string): number {
  if (verdict === 'Passed') return 0;
  if (verdict === 'Missed Goals') return 3;
  return 1;
}

export function paintVerdict(verdict: string): string {
  if (verdict === 'Passed') return style.green(style.bold(verdict));
  if (verdict === 'Missed Goals') return style.yellow(style.bold(verdict));
  return style.red(style.bold(verdict));
}

/**
 * Why a replay ended in Error: from its report (written even then), or, when the report is in
 * a cluster's store, from the workflow's last failed activity.
 */
async function errorReason(result: ReplayResult, handle: WorkflowHandle): Promise<string | undefined> {
  const report = await readReport(path.dirname(result.reportPath)).catch(() => undefined);
  return report?.verdictReason ?? (await lastActivityFailure(handle));
}

async function runReplay(snapshotId: string, opts: ReplayFlags & { json?: boolean }): Promise<void> {
  if (opts.namespace && !opts.workload) throw new CliError('-n/--namespace goes with --workload', 2);
  // Checked first: no cluster, no namespace, no workload are one line each.
  const cluster = opts.workload ? await resolveClusterWorkload(opts.workload, opts.namespace) : undefined;
  const input = await buildReplayInput(snapshotId, opts, cluster);
  // Before any server starts: a snapshot the worker would not find is one line, at once (the
  // cluster's worker reads the cluster's store: its to judge).
  if (!cluster) await checkSnapshotFirst(snapshotId);
  const { resolveTemporal, workflowLink, TASK_QUEUE } = await import('../resolve-temporal.js');
  const temporal = cluster ? await connectClusterTemporal(cluster) : await resolveTemporal();
  try {
    const workflowId = input.replayId ?? newId('replay');
    const handle = await temporal.client.workflow.start('replayWorkflow', {
      taskQueue: TASK_QUEUE,
      workflowId,
      args: [input],
    });
    if (!opts.json)
      notice(
        `replay ${workflowId} of ${snapshotId} against ${
          cluster
            ? `${cluster.ref.kind} ${cluster.ref.name} in ${cluster.ref.namespace}`
            : (input.target.url ?? '(responder only)')
        }`,
      );
    const link = workflowLink(temporal, workflowId);
    const result = await watchWorkflow<ReplayResult, ReplayProgress>(handle, {
      what: 'replay',
      link,
      workerLog: temporal.workerLog,
      stopSignal: 'cancel',
      stopNotice: 'cancelling the replay; tearing down',
      render: (p) =>
        `${p.phase}: ${p.done}${p.total ? `/${p.total}` : ''} done, ${p.sent} sent, ${p.errors} errors`,
    });
    if (opts.json) {
      printJson({
        replayId: result.replayId,
        workflowId: result.workflowId,
        verdict: result.verdict,
        reportPath: result.reportPath,
        requests: result.requests,
        errors: result.errors,
        responder: result.responder,
      });
    } else {
      const r = result.responder;
      printLine(`verdict   ${paintVerdict(result.verdict)}`);
      printLine(`requests  ${result.requests} sent, ${result.errors} errors`);
      printLine(`responder ${r.match} matched, ${r.noMatch} not matched, ${r.passthrough} passed through`);
      printLine(`report    ${result.reportPath}`);
      printLine(`workflow  ${result.workflowId}${temporal.uiUrl ? `  (${temporal.uiUrl})` : ''}`);
    }
    process.exitCode = exitCodeFor(result.verdict);
    // The result is printed; an Error still ends with its one line (and the log file, by main).
    if (result.verdict === 'Error') {
      const reason = await errorReason(result, handle);
      throw new CliError(
        `replay ended in Error${reason ? `: ${reason}` : ''} (${link})`,
        1,
        temporal.workerLog,
      );
    }
  } finally {
    await temporal.close();
  }
}

interface ReplayRow {
  replayId: string;
  snapshotId: string;
  verdict: string;
  requests: number;
  startedAt: string;
  reportPath: string;
}

async function listReplays(home: string): Promise<ReplayRow[]> {
  const names = await readdir(replaysDir(home)).catch(() => [] as string[]);
  const rows: ReplayRow[] = [];
  for (const name of names) {
    const report = await readReport(replayDir(home, name)).catch(() => undefined);
    if (!report) continue; // running, or torn down before a report was written
    rows.push({
      replayId: report.meta.replayId,
      snapshotId: report.meta.snapshotId,
      verdict: report.verdict,
      requests: report.summary.requests,
      startedAt: report.meta.startedAt,
      reportPath: `${replayDir(home, name)}/report.html`,
    });
  }
  return rows.sort((a, b) => b.startedAt.localeCompare(a.startedAt));
}

export function replayCommand(): Command {
  const cmd = new Command('replay')
    .description(
      "replay a snapshot's inbound traffic against a service, with its dependencies mocked, and report",
    )
    .argument('[snapshot]', 'snapshot id (see `reprise snapshot ls`)')
    .option('--target <url>', 'base URL of the service under test, e.g. http://127.0.0.1:8080')
    .option(
      '--workload <kind/name>',
      'replay against a workload of the cluster in KUBECONFIG (deploy/NAME, sts/NAME, ds/NAME) through its Reprise chart',
      workloadFlag,
    )
    .option(
      '-n, --namespace <namespace>',
      "the --workload's namespace (default: the kubeconfig context's, else default)",
      namespaceFlag,
    )
    .option(
      '--app <command>',
      'start the service with this command (HTTP_PROXY aimed at the responder; PORT set)',
    )
    .addOption(
      new Option('--mode <mode>', 'what runs').choices(['full-replay', 'generator-only', 'responder-only']),
    )
    .addOption(
      new Option('--rate <n>', 'requests per second').argParser(positiveNumberFlag).conflicts('speed'),
    )
    .option('--speed <multiplier>', 'recorded timing times this (2x = twice as fast, 0.5x = half)')
    .option('--connections <n>', 'concurrent connections (virtual users)', positiveIntFlag)
    .option('--duration <duration>', 'replay as many passes as fit in this time', durationFlag)
    .option(
      '--replicas <n>',
      'generators sending together, each a shard of the recording; rate and connections are split',
      positiveIntFlag,
    )
    .option(
      '--config <file>',
      'test config (JSON or YAML, the replayWorkflow input shape); flags override it',
    )
    .option(
      '--json',
      'print {"replayId","workflowId","verdict","reportPath","requests","errors","responder"} at the end',
    )
    .action(async (snapshot: string | undefined, opts: ReplayFlags & { json?: boolean }) => {
      if (!snapshot)
        throw new CliError('missing the SNAPSHOT argument: a snapshot id from `reprise snapshot ls`', 2);
      await runReplay(snapshot, opts);
    });

  cmd
    .command('ls')
    .description('list finished replays, newest first')
    .option(
      '--json',
      'print a JSON array of {replayId, snapshotId, verdict, requests, startedAt, reportPath}',
    )
    .action(async (opts: { json?: boolean }) => {
      const rows = await listReplays(repriseHome());
      if (opts.json) return printJson(rows);
      if (!rows.length)
        return printLine('no replays yet; run one with `reprise replay SNAPSHOT --target URL`');
      printTable(
        ['REPLAY', 'SNAPSHOT', 'VERDICT', 'REQUESTS', 'STARTED'],
        rows.map((r) => [r.replayId, r.snapshotId, r.verdict, r.requests, r.startedAt]),
      );
    });
  return cmd;
}
