/**
 * Summarises a V8 CPU profile (`node --cpu-prof`): self time by function, the top N, as the
 * share of all samples. `node dist/bench/profile-top.js FILE.cpuprofile [N] [--by-file] [--after=MS]
 * [--busy]`: `--after` leaves out the first MS of the profile (start-up), `--busy` leaves out idle.
 * bench/README.md says per row what these tables showed.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** `fn (file:line)`, the file relative to node_modules or the project when it is in one. */
function label(node: ProfileNode, byFile: boolean): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url
    .replace(/^file:\/\//, '')
    .replace(/^.*node_modules\//, '')
    .replace(/^.*\/dist\//, '');
  if (byFile) return file || functionName || '(anonymous)';
  const where = file ? ` (${path.basename(file)}:${lineNumber + 1})` : '';
  return `${functionName || '(anonymous)'}${where}`;
}

interface Window {
  byFile: boolean;
  /** Samples before this many ms from the profile's start are left out. */
  afterMs: number;
  busy: boolean;
}

function selfTimes(profile: CpuProfile, w: Window): { name: string; ms: number; share: number }[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const totals = new Map<string, number>();
  let all = 0;
  let at = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    at += us;
    const node = byId.get(id);
    if (!node || at < w.afterMs * 1000) return;
    const name = label(node, w.byFile);
    if (w.busy && name === '(idle)') return;
    totals.set(name, (totals.get(name) ?? 0) + us);
    all += us;
  });
  return [...totals]
    .map(([name, us]) => ({ name, ms: us / 1000, share: all ? us / all : 0 }))
    .sort((a, b) => b.ms - a.ms);
}

function main(): void {
  const args = process.argv.slice(2);
  const byFile = args.includes('--by-file');
  const busy = args.includes('--busy');
  const afterMs = Number(args.find((a) => a.startsWith('--after='))?.slice('--after='.length) ?? 0);
  const [file, n] = args.filter((a) => !a.startsWith('--'));
  if (!file) {
    process.stderr.write('usage: profile-top FILE.cpuprofile [N] [--by-file] [--after=MS] [--busy]\n');
    process.exit(2);
  }
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  for (const row of selfTimes(profile, { byFile, afterMs, busy }).slice(0, Number(n ?? 30))) {
    process.stdout.write(
      `${(row.share * 100).toFixed(1).padStart(5)}%  ${row.ms.toFixed(0).padStart(7)} ms  ${row.name}\n`,
    );
  }
}

main();
