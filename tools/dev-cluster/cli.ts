#!/usr/bin/env node
/**
 * The dev cluster for people: `up` (idempotent), `status`, `down`. The cluster runs detached
 * and outlives this command; state.json in its folder is how `status` and `down` find it.
 *
 *   node dist/tools/dev-cluster/cli.js up|down|status [--dir DIR] [--json] [--node real|kwok]
 *                                     [--image FILE]... [--relay HOST:PORT]...
 *
 * `up` prints `export` lines on stdout (everything else on stderr), so
 * `eval "$(node dist/tools/dev-cluster/cli.js up)"` points the shell at the cluster.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { projectRoot } from '../../src/base/project-root.js';
import { probeReady, startDevCluster } from './cluster.js';
import { isRunning } from './processes.js';
import { readState, type ClusterState } from './state.js';
import { teardown } from './teardown.js';
import { kubeToolPaths } from './tools.js';

const USAGE = `usage: cli.js up|down|status [--dir DIR] [--json] [--node real|kwok] [--image FILE]... [--relay HOST:PORT]...
  up       start the dev cluster (or report the one running) and print export lines
  status   what runs; exit 0 when the cluster answers, 1 otherwise
  down     stop everything state.json names, undo its host changes, remove the folder
  --dir    the cluster folder (default ${path.join(projectRoot, '.cluster')})
  --json   print the state as JSON on stdout
  --node   real (default: containerd, kubelet, kube-proxy, CoreDNS; pods run) or kwok (API only)
  --image  an OCI archive to import into the real node (e.g. .tools/image/reprise.oci.tar)
  --relay  relay a port of the node's host address to HOST:PORT here (Temporal's dev server)`;

const say = (line: string) => process.stderr.write(line + '\n');

interface Status {
  dir: string;
  running: boolean;
  ready: boolean;
  server?: string;
  kubeconfig?: string;
  node?: string;
  /** Pods reach this machine here (a real node's link). */
  hostAddress?: string;
  processes: { name: string; pid: number; running: boolean; log: string }[];
}

async function status(dir: string, state: ClusterState | undefined): Promise<Status> {
  const processes = (state?.processes ?? []).map((p) => ({
    name: p.name,
    pid: p.pid,
    running: isRunning(p),
    log: p.logFile,
  }));
  const running = processes.length > 0 && processes.every((p) => p.running);
  return {
    dir,
    running,
    ready: running && (await probeReady(dir)),
    server: state?.server || undefined,
    kubeconfig: state?.kubeconfigPath,
    node: state?.node,
    hostAddress: state?.node === 'real' ? state.network?.hostIp : undefined,
    processes,
  };
}

function printExports(kubeconfig: string): void {
  process.stdout.write(`export KUBECONFIG=${kubeconfig}\n`);
  process.stdout.write(`export PATH=${kubeToolPaths().bin}${path.delimiter}$PATH\n`);
}

function printStatus(s: Status): void {
  say(`dev cluster in ${s.dir}: ${s.ready ? 'ready' : s.running ? 'running, not ready' : 'not running'}`);
  if (s.server) say(`  server:     ${s.server}`);
  if (s.kubeconfig) say(`  kubeconfig: ${s.kubeconfig}`);
  if (s.node)
    say(`  node:       ${s.node}${s.hostAddress ? ` (pods reach this machine at ${s.hostAddress})` : ''}`);
  for (const p of s.processes)
    say(
      `  ${p.name.padEnd(24)} pid ${String(p.pid).padEnd(8)} ${p.running ? 'running' : 'stopped'}  ${p.log}`,
    );
}

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        dir: { type: 'string' },
        json: { type: 'boolean' },
        node: { type: 'string' },
        image: { type: 'string', multiple: true },
        relay: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    say(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const { positionals, values } = parsed;
  const command = positionals[0];
  if (values.help) {
    say(USAGE);
    return 0;
  }
  if (positionals.length !== 1 || !['up', 'down', 'status'].includes(command)) {
    say(USAGE);
    return 2;
  }
  const node = values.node ?? 'real';
  if (node !== 'real' && node !== 'kwok') {
    say(`--node: expected real or kwok, got "${node}"\n${USAGE}`);
    return 2;
  }
  if (node === 'kwok' && (values.image || values.relay)) {
    say(`--image and --relay need a real node (--node real)\n${USAGE}`);
    return 2;
  }
  const dir = path.resolve(values.dir ?? path.join(projectRoot, '.cluster'));
  const state = readState(dir);

  if (command === 'down') {
    // Without state.json the folder is not a cluster's: leave it alone.
    if (!state) {
      say(`no dev cluster in ${dir}`);
      return 0;
    }
    const count = state.processes.filter(isRunning).length;
    await teardown(dir, { removeDir: true });
    say(`dev cluster in ${dir} stopped (${count} processes), folder removed`);
    return 0;
  }

  const current = await status(dir, state);
  if (command === 'status') {
    if (values.json) process.stdout.write(JSON.stringify(current, null, 2) + '\n');
    else printStatus(current);
    return current.ready ? 0 : 1;
  }

  if (current.ready) {
    say('already running:');
  } else {
    if (state) {
      say(
        `clearing a dev cluster in ${dir} that is not healthy (${current.running ? 'not ready' : 'stopped'})`,
      );
      await teardown(dir, { removeDir: true });
    }
    say(`starting a dev cluster in ${dir} ...`);
    const started = Date.now();
    // keep: a failed start leaves its logs for reading; `down` removes the folder.
    const cluster = await startDevCluster({
      dir,
      node,
      images: (values.image ?? []).map((file) => path.resolve(file)),
      keep: true,
      detach: true,
      log: (msg) => say(`  ${msg}`),
    });
    for (const target of values.relay ?? []) say(`  relay ${await cluster.relay(target)} -> ${target}`);
    say(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  const now = await status(dir, readState(dir));
  if (values.json) {
    process.stdout.write(JSON.stringify(now, null, 2) + '\n');
  } else {
    printStatus(now);
    printExports(now.kubeconfig!);
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    say(`dev-cluster: ${(err as Error).message}`);
    process.exit(1);
  },
);
