/**
 * The `reprise` command line. Exit codes: 0 success, 1 failure, 2 bad usage (and, for
 * `replay`, 3 when goals are missed). Results on stdout, everything else on stderr.
 */
import { Command, CommanderError } from 'commander';
import { ZodError } from 'zod';
import { CliError } from './errors.js';
import { describeZodIssues } from '../src/base/issues.js';
import { notice, style } from './output.js';
import { snapshotCommand } from './commands/snapshot.js';
import { captureCommand } from './commands/capture.js';
import { upCommand } from './commands/up.js';
import { replayCommand } from './commands/replay.js';
import { reportCommand } from './commands/report.js';
import { scheduleCommand } from './commands/schedule.js';
import { caCommand } from './commands/ca.js';
import { version } from './version.js';

export function buildProgram(): Command {
  const program = new Command('reprise')
    .description('Capture real traffic in front of a service; replay it as a regression test and as load.')
    .version(version, '-v, --version')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ outputError: (text, write) => write(style.red(text, process.stderr)) })
    .exitOverride()
    // Options after a sub-command belong to it: `replay ls --json` is ls's --json.
    .enablePositionalOptions();
  program.addCommand(upCommand());
  program.addCommand(captureCommand());
  program.addCommand(snapshotCommand());
  program.addCommand(replayCommand());
  program.addCommand(reportCommand());
  program.addCommand(scheduleCommand());
  program.addCommand(caCommand());
  // Sub-commands throw instead of exiting, so main() decides the exit code in one place.
  const propagate = (cmd: Command) => {
    cmd.exitOverride();
    if (cmd.commands.length) cmd.enablePositionalOptions();
    cmd.configureOutput({ outputError: (text, write) => write(style.red(text, process.stderr)) });
    cmd.commands.forEach(propagate);
  };
  program.commands.forEach(propagate);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version also come through here, with exit code 0.
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof CliError) {
      notice(style.red(`reprise: ${err.message}`, process.stderr));
      return err.exitCode;
    }
    if (err instanceof ZodError) {
      notice(style.red(`reprise: invalid input: ${describeZodIssues(err.issues)}`, process.stderr));
      return 2;
    }
    notice(style.red(`reprise: ${(err as Error)?.stack ?? String(err)}`, process.stderr));
    return 1;
  }
}
