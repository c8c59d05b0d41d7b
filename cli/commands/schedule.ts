/** `reprise schedule ...`: regression replays on a Temporal Schedule. */
import { Command } from 'commander';
import type { RegressionInput } from '../../src/config/replay.js';
import { CliError, UsageError } from '../errors.js';
import { printJson, printLine, printTable } from '../output.js';
import { buildReplayInput, type ReplayFlags } from '../replay-input.js';
import { checkSnapshotFirst } from '../store.js';
import { nameFlag } from '../flags.js';

/** A schedule outlives the command, so it needs a server that stays: never the embedded one. */
async function withClient<T>(
  fn: (client: import('@temporalio/client').Client, taskQueue: string) => Promise<T>,
  name?: string,
) {
  const { resolveTemporal, TASK_QUEUE } = await import('../resolve-temporal.js');
  const temporal = await resolveTemporal({
    needsLastingServer: 'schedules live in a Temporal server that keeps running, and none is running',
  });
  try {
    return await fn(temporal.client, TASK_QUEUE);
  } catch (err) {
    if ((err as Error).name === 'ScheduleNotFoundError') {
      throw new CliError(`no schedule named "${name}" at ${temporal.address} (see \`reprise schedule ls\`)`);
    }
    throw err;
  } finally {
    await temporal.close();
  }
}

export function scheduleCommand(): Command {
  const cmd = new Command('schedule').description('regression replays on a schedule (Temporal Schedules)');

  cmd
    .command('create')
    .description('replay a snapshot on a cron schedule and compare each run with the baseline')
    .requiredOption('--snapshot <id>', 'snapshot to replay')
    .requiredOption('--target <url>', 'base URL of the service under test')
    .requiredOption('--cron <expression>', 'when to run, e.g. "0 * * * *" (hourly)')
    .option('--name <name>', 'schedule name (default: regression-<snapshot>)', nameFlag)
    .option('--app <command>', 'start the service with this command for each run')
    .option('--config <file>', 'test config (JSON or YAML)')
    .option('--baseline <replayId>', 'compare with this replay instead of the first passing run')
    .option('--json', 'print {"name","cron","snapshotId"}')
    .action(
      async (
        opts: ReplayFlags & {
          snapshot: string;
          cron: string;
          name?: string;
          baseline?: string;
          json?: boolean;
        },
      ) => {
        const replay = await buildReplayInput(opts.snapshot, opts);
        await checkSnapshotFirst(opts.snapshot);
        const name = opts.name ?? `regression-${opts.snapshot}`;
        const input: RegressionInput = {
          key: name,
          replay,
          ...(opts.baseline ? { baselineReplayId: opts.baseline } : {}),
          thresholds: { latencyIncreasePct: 25, errorRateIncrease: 1, accuracyDecrease: 0 },
        };
        await withClient(async (client, taskQueue) => {
          await client.schedule
            .create({
              scheduleId: name,
              spec: { cronExpressions: [opts.cron] },
              // Temporal stores cron as calendar specs; the memo keeps the text the user wrote.
              memo: { cron: opts.cron, snapshotId: opts.snapshot, target: opts.target },
              action: { type: 'startWorkflow', workflowType: 'regressionWorkflow', args: [input], taskQueue },
            })
            .catch((err: Error) => {
              // The server parses the cron text: its refusal is about the flag.
              if (/cron|spec/i.test(err.message))
                throw new UsageError(`--cron "${opts.cron}": ${err.message}`);
              if (err.name === 'ScheduleAlreadyRunning') {
                throw new CliError(`a schedule named "${name}" already exists; choose another --name`);
              }
              throw new CliError(`cannot create schedule "${name}": ${err.message}`);
            });
        });
        if (opts.json) printJson({ name, cron: opts.cron, snapshotId: opts.snapshot });
        else
          printLine(
            `schedule ${name} created: ${opts.cron}, replaying ${opts.snapshot} against ${opts.target}`,
          );
      },
    );

  cmd
    .command('ls')
    .description('list schedules')
    .option('--json', 'print a JSON array of {name, cron, paused, nextRun, lastRun}')
    .action(async (opts: { json?: boolean }) => {
      const rows = await withClient(async (client) => {
        const out: {
          name: string;
          cron: string;
          paused: boolean;
          nextRun: string | null;
          lastRun: string | null;
        }[] = [];
        for await (const s of client.schedule.list()) {
          out.push({
            name: s.scheduleId,
            cron: String(s.memo?.cron ?? ''),
            paused: s.state.paused,
            nextRun: s.info.nextActionTimes[0]?.toISOString() ?? null,
            lastRun: s.info.recentActions.at(-1)?.takenAt.toISOString() ?? null,
          });
        }
        return out;
      });
      if (opts.json) return printJson(rows);
      if (!rows.length) return printLine('no schedules; create one with `reprise schedule create`');
      printTable(
        ['NAME', 'CRON', 'PAUSED', 'NEXT RUN', 'LAST RUN'],
        rows.map((r) => [r.name, r.cron, r.paused ? 'yes' : 'no', r.nextRun ?? '-', r.lastRun ?? '-']),
      );
    });

  const simple = (verb: 'pause' | 'unpause' | 'trigger' | 'delete', description: string) =>
    cmd
      .command(verb)
      .description(description)
      .argument('<name>', 'schedule name')
      .option('--json', 'print {"name","done"}')
      .action(async (name: string, opts: { json?: boolean }) => {
        await withClient(async (client) => {
          const handle = client.schedule.getHandle(name);
          if (verb === 'pause') await handle.pause('paused with reprise schedule pause');
          else if (verb === 'unpause') await handle.unpause('unpaused with reprise schedule unpause');
          else if (verb === 'trigger') await handle.trigger();
          else await handle.delete();
        }, name);
        if (opts.json) printJson({ name, done: verb });
        else printLine(`schedule ${name}: ${verb} done`);
      });
  simple('pause', 'pause a schedule');
  simple('unpause', 'resume a paused schedule');
  simple('trigger', 'run a schedule now');
  simple('delete', 'delete a schedule (its past runs stay in Temporal)');
  return cmd;
}
