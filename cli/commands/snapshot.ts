/** `reprise snapshot ls | show | import | export | rm`: the recordings in the store. */
import { createWriteStream, type WriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { Command } from 'commander';
import { HarFormatError, importHar, writeHar } from '../../src/har/index.js';
import { describeReadError } from '../../src/base/rules-file.js';
import { CliError } from '../errors.js';
import { formatBytes, notice, printJson, printLine, printTable, style } from '../output.js';
import { idArgument, serviceFlag } from '../flags.js';
import { cliStore as store, requireSnapshot as manifestOrFail } from '../store.js';
import type { SnapshotManifest } from '../../src/model/traffic.js';

/** The output file, opened before the export starts so a bad path is one line and no partial work. */
async function openOutput(file: string): Promise<WriteStream> {
  const out = createWriteStream(file);
  try {
    await once(out, 'open');
    return out;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'its directory does not exist'
        : code === 'EISDIR'
          ? 'is a directory'
          : code === 'EACCES'
            ? 'permission denied'
            : (err as Error).message;
    throw new CliError(`-o ${file}: cannot write there (${why})`);
  }
}

export function snapshotCommand(): Command {
  const cmd = new Command('snapshot').description('list, inspect, import, export and remove snapshots');

  cmd
    .command('ls')
    .description('list the snapshots in the store, newest first')
    .option('--json', 'print a JSON array of {id, service, pairs, createdAt}')
    .action(async (opts: { json?: boolean }) => {
      const manifests = await store().list();
      if (opts.json) {
        printJson(
          manifests.map((m) => ({
            id: m.id,
            service: m.service,
            pairs: m.counts.pairs,
            createdAt: m.createdAt,
          })),
        );
        return;
      }
      if (manifests.length === 0) {
        printLine(`no snapshots in ${store().root}; record one with \`reprise capture --app-port PORT\``);
        return;
      }
      printTable(
        ['ID', 'SERVICE', 'PAIRS', 'IN', 'OUT', 'SIZE', 'SOURCE', 'CREATED'],
        manifests.map((m) => [
          m.id,
          m.service,
          m.counts.pairs,
          m.counts.inbound,
          m.counts.outbound,
          formatBytes(m.counts.bytes),
          m.source,
          m.createdAt,
        ]),
      );
    });

  cmd
    .command('show')
    .description("show a snapshot's manifest: counts, time window, endpoints, rules applied")
    .argument('<id>', 'snapshot id', idArgument)
    .option('--json', 'print the manifest as JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      const m = await manifestOrFail(id);
      if (opts.json) {
        printJson(m);
        return;
      }
      const d = m.counts.dropped;
      printLine(`${style.bold('Snapshot')} ${m.id}`);
      printLine(`service    ${m.service}  (${m.source})`);
      printLine(`window     ${m.window.start} .. ${m.window.end}`);
      printLine(
        `pairs      ${m.counts.pairs} (${m.counts.inbound} inbound, ${m.counts.outbound} outbound), ${formatBytes(m.counts.bytes)}`,
      );
      printLine(`truncated  ${m.counts.truncatedBodies} bodies cut at the body limit`);
      if (m.counts.unscannedBodies)
        printLine(
          `unscanned  ${m.counts.unscannedBodies} binary bodies DLP could not scan, stored as recorded`,
        );
      printLine(`dropped    sidecar ${d.sidecar}, forwarder ${d.forwarder}, filtered ${d.filtered}`);
      if (m.writers) printWriters(m);
      if (m.endpoints.length) {
        printLine();
        printTable(
          ['DIRECTION', 'METHOD', 'HOST', 'PATH', 'COUNT'],
          m.endpoints.map((e) => [e.direction, e.method, e.host, e.path, e.count]),
        );
        if (m.otherEndpoints)
          printLine(style.dim(`... and ${m.otherEndpoints} more pairs on other endpoints`));
      }
    });

  cmd
    .command('import')
    .description('import a HAR 1.2 file (browser DevTools, mitmproxy, ...) as a snapshot')
    .argument('<file>', 'HAR file')
    .option(
      '--service <name>',
      "service the traffic belongs to (default: the one a Reprise export names, else 'app')",
      serviceFlag,
    )
    .option('--json', 'print {snapshotId, pairs}')
    .action(async (file: string, opts: { service?: string; json?: boolean }) => {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (err) {
        throw new CliError(`${file}: ${describeReadError(err)}; expected a HAR 1.2 file`);
      }
      let har: unknown;
      try {
        har = JSON.parse(text);
      } catch (err) {
        throw new CliError(`${file}: not valid JSON (${(err as Error).message}); expected a HAR 1.2 file`);
      }
      const manifest = await importHar(store(), har, { service: opts.service }).catch((err: unknown) => {
        throw err instanceof HarFormatError
          ? new CliError(`${file}: ${err.message}; expected a HAR 1.2 file`)
          : err;
      });
      if (opts.json) printJson({ snapshotId: manifest.id, pairs: manifest.counts.pairs });
      else
        printLine(
          `imported ${manifest.counts.pairs} pairs from ${file} as snapshot ${style.bold(manifest.id)}`,
        );
    });

  cmd
    .command('export')
    .description('export a snapshot as HAR 1.2 (to stdout unless -o is given)')
    .argument('<id>', 'snapshot id', idArgument)
    .requiredOption('--har', 'export format: HAR 1.2 (the only format for now)')
    .option('-o, --output <file>', 'write to this file instead of stdout')
    .option('--json', 'with -o: print {snapshotId, file}')
    .action(async (id: string, opts: { har: boolean; output?: string; json?: boolean }) => {
      await manifestOrFail(id);
      if (opts.output) {
        const out = await openOutput(opts.output);
        await writeHar(store(), id, out);
        out.end();
        await finished(out);
        if (opts.json) printJson({ snapshotId: id, file: opts.output });
        else notice(`wrote ${opts.output}`);
      } else {
        await writeHar(store(), id, process.stdout);
      }
    });

  cmd
    .command('rm')
    .description('remove a snapshot from the store')
    .argument('<id>', 'snapshot id', idArgument)
    .option('--json', 'print {removed}')
    .action(async (id: string, opts: { json?: boolean }) => {
      await manifestOrFail(id);
      await store().remove(id);
      if (opts.json) printJson({ removed: id });
      else printLine(`removed snapshot ${id}`);
    });

  return cmd;
}

/** A snapshot several forwarders wrote: what each stored, and what the ones that died lost. */
function printWriters(m: SnapshotManifest): void {
  const lost = m.writers!.filter((w) => w.lost);
  if (m.counts.lost)
    printLine(`lost       ${m.counts.lost} pairs with ${lost.length} writer(s) that did not answer the seal`);
  printLine();
  printTable(
    ['WRITER', 'STATE', 'PAIRS', 'INBOUND', 'OUTBOUND', 'BYTES', 'PARTS', 'LOST'],
    m.writers!.map((w) => [
      w.writer,
      w.state,
      w.pairs,
      w.inbound,
      w.outbound,
      formatBytes(w.bytes),
      w.parts.length,
      w.lost?.pairs ?? 0,
    ]),
  );
  for (const w of lost) printLine(style.dim(`${w.writer}: ${w.lost!.reason}`));
}
