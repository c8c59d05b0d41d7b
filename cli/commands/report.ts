/** `reprise report show ID`: a replay's report, as a summary, as JSON, or opened in a browser. */
import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { Command } from 'commander';
import { repriseHome, replayDir, replaysDir } from '../../src/base/paths.js';
import { readReport } from '../../src/report/write.js';
import type { Report } from '../../src/report/schema.js';
import { CliError } from '../errors.js';
import { idArgument } from '../flags.js';
import { notice, printJson, printLine, printTable } from '../output.js';
import { paintVerdict } from './replay.js';

function showSummary(report: Report): void {
  const s = report.summary;
  const l = report.latency;
  printLine(
    `verdict    ${paintVerdict(report.verdict)}${report.verdictReason ? ` (${report.verdictReason})` : ''}`,
  );
  printLine(
    `replay     ${report.meta.replayId} of ${report.meta.snapshotId} -> ${report.meta.target} (${report.meta.mode})`,
  );
  printLine(
    `requests   ${s.requests} sent, ${s.responses} answered, ${s.errors} errors; success ${s.successRate}%, assertions ${s.assertionPassRate}%`,
  );
  printLine(`latency    p50 ${l.p50} ms, p95 ${l.p95} ms, p99 ${l.p99} ms; ${s.rps} req/s`);
  if (report.responder) {
    const r = report.responder;
    printLine(`responder  ${r.match} matched, ${r.noMatch} not matched, ${r.passthrough} passed through`);
  }
  if (report.goals.length) {
    printLine();
    printTable(
      ['GOAL', 'EXPECTED', 'ACTUAL', 'RESULT'],
      report.goals.map((g) => [
        g.name,
        `${g.comparator} ${g.expected}`,
        g.actual ?? '-',
        g.passed ? 'passed' : 'MISSED',
      ]),
    );
  }
  if (report.noise.length)
    printLine(`\n${report.noise.length} volatile fields ignored as noise (see the HTML report)`);
}

export function reportCommand(): Command {
  const cmd = new Command('report').description('show the report of a replay');
  cmd
    .command('show')
    .description('show a replay report')
    .argument('<id>', 'replay id (see `reprise replay ls`)', idArgument)
    .option('--json', 'print report.json')
    .option('--open', 'open report.html in the default browser')
    .action(async (id: string, opts: { json?: boolean; open?: boolean }) => {
      const dir = replayDir(repriseHome(), id);
      const report = await readReport(dir).catch(async (err: Error) => {
        if (!(await stat(dir).catch(() => undefined))) {
          throw new CliError(`no replay "${id}" in ${replaysDir(repriseHome())} (see \`reprise replay ls\`)`);
        }
        const code = (err as NodeJS.ErrnoException).code;
        throw new CliError(
          code === 'ENOENT'
            ? `replay "${id}" has no report yet (still running, or stopped before its analysis)`
            : `the report of replay "${id}" cannot be read (${err.name === 'ZodError' ? 'not a Reprise report' : err.message.split('\n')[0]}): ${dir}`,
        );
      });
      if (opts.json) printJson(report);
      else showSummary(report);
      const html = path.join(dir, 'report.html');
      if (opts.open) {
        const opener = process.platform === 'darwin' ? 'open' : 'xdg-open';
        const child = spawn(opener, [html], { stdio: 'ignore', detached: true });
        child.on('error', () => notice(`could not run ${opener}; open ${html} yourself`));
        child.unref();
      } else if (!opts.json) printLine(`\nHTML report: ${html}`);
    });
  return cmd;
}
