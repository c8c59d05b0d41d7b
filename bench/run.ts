/**
 * The benchmark suite: `node dist/bench/run.js [--only NAME[,NAME]] [--quick] [--list]`.
 * Runs every measure in dist/bench/measures/ in the issue's order, each in a fresh work folder
 * and within its time budget; a measure that fails or overruns becomes rows with a null value
 * and a note, never the end of the suite. Prints a table and writes bench/results.json
 * (merged by row name with --only; never with --quick).
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { execFile } from 'node:child_process';
import { parseArgs, promisify } from 'node:util';
import { distPath, round, stopAllChildren } from './lib/common.js';
import { REPO_ROOT } from './lib/peers.js';
import type { Measure, MeasureResult } from './lib/types.js';

/** The issue's order; measures run (and rows are written) in it, unknown names last. */
const ORDER = [
  'sidecar-throughput',
  'capture-completeness',
  'sidecar-p99-1k',
  'sidecar-tls',
  'responder-100k-vs-10',
  'responder-vs-mockttp',
  'responder-vs-mockttp-post',
  'generator-vs-autocannon',
  'generator-rate-500',
  'generator-rate-2000',
  'forwarder-dlp',
  'analyzer-20k-vs-2k',
  'memory-capture-1m',
  'memory-slow-target',
  'replay-start-latency',
  'store-s3-ingest',
  'forwarder-replicas-s3',
  'generator-replicas',
];
/** A measure without its own budget gets this long before it is cut. */
const DEFAULT_BUDGET_S = 240;
const RESULTS_FILE = path.join(REPO_ROOT, 'bench', 'results.json');
const WORK_ROOT = path.join(REPO_ROOT, 'bench', '.work');

interface Loaded {
  file: string;
  measure: Measure & { budgetS?: number };
}

const rank = (name: string) => {
  const i = ORDER.indexOf(name);
  return i === -1 ? ORDER.length : i;
};
const firstRank = (m: Measure) => Math.min(...m.names.map(rank));

async function discover(): Promise<Loaded[]> {
  const dir = distPath('bench/measures');
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.js')).sort();
  const loaded: Loaded[] = [];
  for (const file of files) {
    const mod = (await import(pathToFileURL(path.join(dir, file)).href)) as { measures?: Measure[] };
    for (const measure of mod.measures ?? []) loaded.push({ file, measure });
  }
  // Stable sort: the issue's order, then file and position for names it does not list.
  return loaded.sort((a, b) => firstRank(a.measure) - firstRank(b.measure));
}

function failedRows(names: string[], why: string): MeasureResult[] {
  return names.map((name) => ({
    name,
    unit: '',
    value: null,
    baseline: null,
    ratio: null,
    target: '',
    met: null,
    notes: [why],
  }));
}

/**
 * Writes back what the measure left dirty in the page cache: the memory rows write stores of up
 * to a million pairs, whose write-back must not slow the next row's fsyncs (the Temporal dev
 * server's) and process starts.
 */
async function settle(): Promise<void> {
  await promisify(execFile)('sync').catch(() => undefined);
}

async function runOne(l: Loaded, quick: boolean): Promise<MeasureResult[]> {
  const label = l.measure.names.join(',');
  await mkdir(WORK_ROOT, { recursive: true });
  const workDir = await mkdtemp(path.join(WORK_ROOT, `${l.measure.names[0]}-`));
  const t0 = Date.now();
  const log = (m: string) =>
    process.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s ${label}] ${m}\n`);
  const budgetS = l.measure.budgetS ?? DEFAULT_BUDGET_S;
  let timer: NodeJS.Timeout | undefined;
  try {
    const overrun = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`over its ${budgetS} s budget; cut`)), budgetS * 1000);
    });
    const rows = await Promise.race([l.measure.run({ workDir, quick, log }), overrun]);
    log(`done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return rows;
  } catch (err) {
    const why = `failed: ${(err as Error).message.split('\n')[0].slice(0, 300)}`;
    log(why);
    return failedRows(l.measure.names, why);
  } finally {
    clearTimeout(timer);
    // Whatever the measure left running (after a failure or a cut) must not load the next one.
    await stopAllChildren();
    await rm(workDir, { recursive: true, force: true }).catch(() => undefined);
    await settle();
  }
}

function fmt(x: number | null | undefined, digits = 3): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '-';
  const a = Math.abs(x);
  return a >= 1000 ? Math.round(x).toLocaleString('en-US') : String(round(x, a >= 10 ? 1 : digits));
}

function table(rows: MeasureResult[]): string {
  const header = ['measure', 'value', 'baseline', 'ratio', 'target', 'met', 'peers'];
  const lines = rows.map((r) => [
    r.name,
    r.value === null ? `- ${r.notes?.[0] ?? ''}`.slice(0, 60) : `${fmt(r.value)} ${r.unit}`,
    fmt(r.baseline),
    r.ratio === null ? '-' : `${fmt(r.ratio)}x`,
    r.target,
    r.met === null ? '-' : r.met ? 'yes' : 'NO',
    (r.peers ?? [])
      .map(
        (p) =>
          `${p.name} ${p.value === null ? 'n/a' : fmt(p.value)}${p.ratio === null ? '' : ` (${fmt(p.ratio)}x)`}`,
      )
      .join('; '),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...lines.map(line)].join('\n');
}

function machine() {
  const cpus = os.cpus();
  let osName = `${os.type()}`;
  try {
    osName = /PRETTY_NAME="?([^"\n]*)/.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? osName;
  } catch {
    // not Linux: the type will do
  }
  return {
    cpus: cpus.length,
    model: cpus[0]?.model.trim() ?? 'unknown',
    memGiB: round(os.totalmem() / 2 ** 30, 1),
    node: process.version,
    os: osName,
    kernel: os.release(),
  };
}

interface ResultsFile {
  machine: ReturnType<typeof machine>;
  date: string;
  durationS: number;
  measures: MeasureResult[];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { only: { type: 'string' }, quick: { type: 'boolean' }, list: { type: 'boolean' } },
    strict: true,
  });
  const all = await discover();
  if (values.list) {
    for (const l of all) process.stdout.write(`${l.measure.names.join(', ')}  (${l.file})\n`);
    return;
  }
  const only = values.only
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const known = new Set(all.flatMap((l) => l.measure.names));
  const unknown = only?.filter((n) => !known.has(n)) ?? [];
  if (unknown.length) {
    process.stderr.write(`bench: --only: no measure named ${unknown.join(', ')} (see --list)\n`);
    process.exit(2);
  }
  const chosen = only ? all.filter((l) => l.measure.names.some((n) => only.includes(n))) : all;
  const quick = values.quick === true;
  process.on('SIGINT', () => void stopAllChildren().then(() => process.exit(130)));

  const t0 = Date.now();
  const rows: MeasureResult[] = [];
  for (const l of chosen) rows.push(...(await runOne(l, quick)));
  const durationS = round((Date.now() - t0) / 1000, 1);
  rows.sort((a, b) => rank(a.name) - rank(b.name));

  const notes = rows.flatMap((r) => [
    ...(r.notes ?? []).map((n) => `${r.name}: ${n}`),
    ...(r.peers ?? []).filter((p) => p.note).map((p) => `${r.name}: ${p.name}: ${p.note}`),
  ]);
  process.stdout.write(
    `\n${table(rows)}\n\n${notes.join('\n')}\n\ntotal ${durationS} s${quick ? ' (--quick: results.json not written)' : ''}\n`,
  );
  if (quick) return;
  const previous: ResultsFile | undefined =
    only && existsSync(RESULTS_FILE)
      ? (JSON.parse(readFileSync(RESULTS_FILE, 'utf8')) as ResultsFile)
      : undefined;
  const ran = new Set(rows.map((r) => r.name));
  const measures = [...(previous?.measures ?? []).filter((r) => !ran.has(r.name)), ...rows].sort(
    (a, b) => rank(a.name) - rank(b.name),
  );
  const out: ResultsFile = {
    machine: machine(),
    date: new Date().toISOString(),
    // A partial run (--only) keeps the full suite's duration.
    durationS: previous?.durationS ?? durationS,
    measures,
  };
  await writeFile(RESULTS_FILE, JSON.stringify(out, null, 2) + '\n');
  process.stdout.write(`wrote ${path.relative(process.cwd(), RESULTS_FILE) || RESULTS_FILE}\n`);
}

main().catch(async (err: unknown) => {
  process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
  await stopAllChildren();
  process.exit(1);
});
