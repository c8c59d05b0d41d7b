/**
 * The `reprise` command line. Exit codes: 0 success, 1 failure, 2 bad usage (and, for
 * `replay`, 3 when goals are missed). Results on stdout; the command's own messages on stderr
 * (sentences, or JSON lines with --log-json); what libraries and the in-process worker log goes
 * to the log file under REPRISE_HOME (cli/log-file.ts), named when something failed.
 */
import { Command, CommanderError, Option } from 'commander';
import { setLogSink } from '../src/base/log.js';
import { repriseHome } from '../src/base/paths.js';
import { reportFailure } from './failures.js';
import { CommandLogFile } from './log-file.js';
import { errorLine, useJsonMessages } from './output.js';
import { commanderMessage } from './usage-messages.js';
import { snapshotCommand } from './commands/snapshot.js';
import { captureCommand } from './commands/capture.js';
import { upCommand } from './commands/up.js';
import { replayCommand } from './commands/replay.js';
import { reportCommand } from './commands/report.js';
import { scheduleCommand } from './commands/schedule.js';
import { caCommand } from './commands/ca.js';
import { version } from './version.js';

export interface GlobalFlags {
  debug: boolean;
  logJson: boolean;
}

const envOn = (value: string | undefined) => Boolean(value) && !/^(0|false|no|off)$/i.test(value!);

/**
 * Read before parsing, wherever they stand (`reprise replay x --debug` too), so that even a
 * parse error is worded in the chosen mode. Nothing after `--` counts.
 */
export function globalFlags(args: string[], env: NodeJS.ProcessEnv = process.env): GlobalFlags {
  const end = args.indexOf('--');
  const own = end < 0 ? args : args.slice(0, end);
  return {
    debug: own.includes('--debug'),
    logJson: own.includes('--log-json') || envOn(env.REPRISE_LOG_JSON),
  };
}

/** `schedule pause`: the words after `reprise`. */
function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

interface ParseProblem {
  command: Command;
  /** Commander's message; empty when it printed a group's help for a missing sub-command. */
  text: string;
}

export function buildProgram(onProblem: (p: ParseProblem) => void = () => {}): Command {
  const program = new Command('reprise')
    .description('Capture real traffic in front of a service; replay it as a regression test and as load.')
    .version(version, '-v, --version')
    .option('--debug', "print stack traces, and copy the log file's lines to stderr")
    .option('--log-json', 'write these messages as JSON lines (also REPRISE_LOG_JSON=1)')
    // Options after a sub-command belong to it: `replay ls --json` is ls's --json.
    .enablePositionalOptions()
    .addHelpText(
      'after',
      '\nLogs of the libraries and the in-process worker: $REPRISE_HOME/logs/reprise-YYYY-MM-DD.log\n' +
        '(REPRISE_HOME defaults to ./.reprise); a command that fails names the file.',
    );
  program.addCommand(upCommand());
  program.addCommand(captureCommand());
  program.addCommand(snapshotCommand());
  program.addCommand(replayCommand());
  program.addCommand(reportCommand());
  program.addCommand(scheduleCommand());
  program.addCommand(caCommand());
  // Every command throws instead of exiting, so main() words the error and decides the exit
  // code in one place; commander prints nothing itself.
  const quiet = (cmd: Command) => {
    cmd.exitOverride();
    cmd.configureOutput({
      outputError: (text) => onProblem({ command: cmd, text }),
      // Only a group's help for a missing sub-command goes to stderr.
      writeErr: () => onProblem({ command: cmd, text: '' }),
    });
  };
  quiet(program);
  const propagate = (cmd: Command) => {
    quiet(cmd);
    if (cmd.commands.length) cmd.enablePositionalOptions();
    cmd.addOption(new Option('--debug').hideHelp());
    cmd.addOption(new Option('--log-json').hideHelp());
    cmd.commands.forEach(propagate);
  };
  program.commands.forEach(propagate);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const args = argv.slice(2);
  const flags = globalFlags(args);
  useJsonMessages(flags.logJson);
  const stderrSink = { write: (line: string) => process.stderr.write(line) };
  const log = new CommandLogFile(
    repriseHome(),
    { msg: `reprise ${args.join(' ')}`, argv: args },
    stderrSink,
    flags.debug,
  );
  setLogSink(log);
  let problem: ParseProblem | undefined;
  let running: Command | undefined;
  const program = buildProgram((p) => (problem ??= p));
  program.hook('preAction', (_root, action) => {
    running = action;
  });
  // A reader that stops early (`reprise snapshot export ID --har | head`) closes the pipe: it has
  // what it wanted, so the command ends quietly instead of failing with "write EPIPE".
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  // An error thrown outside the command's await chain (an event handler) still ends as one line.
  process.once('uncaughtException', (err) => {
    process.exit(reportFailure(err, { debug: flags.debug, log, command: running && commandPath(running) }));
  });
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version also come through here, with exit code 0.
      if (err.exitCode === 0) return 0;
      const path = problem ? commandPath(problem.command) : '';
      errorLine(commanderMessage(problem?.command ?? program, problem?.text ?? err.message, path), {
        exitCode: 2,
      });
      return 2;
    }
    return reportFailure(err, { debug: flags.debug, log, command: running && commandPath(running) });
  }
}
