/**
 * A real Kubernetes control plane for tests and for people (the envtest way, plus the
 * controllers envtest leaves out) with one node: a KWOK node (nothing runs; Deployments still
 * roll out to Ready pods; starts in seconds) or a real node (containerd, kubelet, kube-proxy,
 * CNI, CoreDNS: pods really run). Every cluster has address ranges of its own, guarded so
 * nothing sent there leaves the machine. Everything lives in one folder (PKI, kubeconfig, etcd
 * data, logs, state.json), and state.json records every process and host change, so stop(),
 * `down`, the exit hook and the watchdog always clean up.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bootControlPlane } from './control-plane.js';
import { clusterEnv } from './files.js';
import { installGuard } from './guard.js';
import { FAKE_NODE_NAME, startKwokNode } from './kwok-node.js';
import { StartError, type StartLimits } from './launcher.js';
import { fetchText } from './net.js';
import { recordOf, stopAll, type ProcessEntry } from './processes.js';
import { startRelay } from './relay-process.js';
import { importImages, containerdPaths } from './real-node/containerd.js';
import { NODE_NAME, nodeLeaves, prepareRealNode, startRealNode } from './real-node/index.js';
import { runTool, type ToolResult, type ToolRunOptions } from './run-tool.js';
import { claimSlot, type ClusterNetwork } from './slots.js';
import { readState, runningProcesses, writeState, type ClusterState, type NodeKind } from './state.js';
import { reclaimSlot, teardown, teardownNow } from './teardown.js';
import { controlPlaneTools, realNodeTools, type ControlPlaneTools, type RealNodeTools } from './tools.js';

export { FAKE_NODE_NAME, NODE_NAME };

export interface DevCluster {
  /** Holds the PKI, kubeconfig, etcd data, logs and state.json. */
  dir: string;
  kubeconfigPath: string;
  /** https://ADDRESS:PORT (127.0.0.1 with a KWOK node; the host's end of the link with a real one). */
  server: string;
  /** The cluster CA (PEM). */
  caPem: string;
  /** process.env + KUBECONFIG + PATH with kubectl and helm first (and private helm/kubectl caches). */
  env: NodeJS.ProcessEnv;
  node: NodeKind;
  /** The node's name (`kwok-node-0` or `reprise-node`). */
  nodeName: string;
  /** The cluster's own address ranges (unique on this machine while it runs). */
  network: ClusterNetwork;
  kubectl(args: string[], opts?: ToolRunOptions): Promise<ToolResult>;
  helm(args: string[], opts?: ToolRunOptions): Promise<ToolResult>;
  /** Real node: imports OCI archives (`.tools/image/reprise.oci.tar`) into the node's containerd. */
  importImages(archives: string[]): Promise<void>;
  /**
   * Real node: relays `hostAddress:PORT` (reachable from pods) to `target` (HOST:PORT on this
   * machine, e.g. Temporal's dev server on 127.0.0.1); resolves with `hostAddress:PORT`.
   */
  relay(target: string): Promise<string>;
  /** Kills every process it started (and their children), undoes its host changes; removes dir unless keep. */
  stop(): Promise<void>;
}

export interface DevClusterOptions {
  /** `kwok` (default: API-only tests) or `real` (pods run). */
  node?: NodeKind;
  /** Real node: OCI archives to import while it starts (besides its pause and CoreDNS images). */
  images?: string[];
  /** Default: a new folder under the OS temp dir. */
  dir?: string;
  /** Keep dir after stop (logs, etcd data). */
  keep?: boolean;
  /**
   * The cluster outlives this process (the `up` command): no exit hook, no watchdog; stop it
   * with `down` (or stop()).
   */
  detach?: boolean;
  /** Bound on the whole start; default 120 s (a KWOK node takes about 7 s, a real one 10-15 s). */
  readyTimeoutMs?: number;
  /** Progress lines (component started, ready), with the seconds since the start. */
  log?: (msg: string) => void;
}

/** Ports taken between our probe and the component's bind (other clusters start too): retry. */
const START_ATTEMPTS = 3;

/** The folder to use: a fresh temp one, or the given one after clearing a dead cluster out of it. */
async function prepareDir(opts: DevClusterOptions): Promise<string> {
  if (!opts.dir) return mkdtempSync(path.join(tmpdir(), 'reprise-cluster-'));
  const dir = path.resolve(opts.dir);
  const previous = readState(dir);
  if (previous) {
    const running = runningProcesses(previous);
    if (running.length > 0) {
      throw new Error(
        `a dev cluster already runs in ${dir} (${running.map((p) => `${p.name} pid ${p.pid}`).join(', ')}); ` +
          `stop it first (node dist/tools/dev-cluster/cli.js down --dir ${dir})`,
      );
    }
    // Leftovers of a crashed run (old PKI, etcd data of another cluster) must not be reused.
    await teardown(dir, { removeDir: true });
  } else if (readdirSafe(dir).length > 0) {
    // Never wipe a folder that is not a cluster's: stop() removes dir.
    throw new Error(`${dir} is not empty and holds no dev cluster (no state.json): choose another dir`);
  }
  mkdirSync(dir, { recursive: true });
  return dir;
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/**
 * Starts the watchdog that tears the cluster down if this process dies without stop().
 * Plain `node watchdog.js`: never this process's execArgv, which may hold `-e` code or test
 * runner flags that would make the watchdog run something else.
 */
function startWatchdog(dir: string): ProcessEntry | undefined {
  const script = fileURLToPath(new URL('./watchdog.js', import.meta.url));
  // Run from TypeScript sources (no compiled watchdog beside us): the exit hook has to do.
  if (!existsSync(script)) return undefined;
  const child = spawn(process.execPath, [script, dir], {
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  child.unref();
  // The pipe must not keep this process alive: its closing when we exit is the signal.
  (child.stdin as unknown as { unref(): void }).unref();
  return recordOf('watchdog', child.pid, '', process.execPath);
}

type Tools = ControlPlaneTools & Partial<RealNodeTools>;

/** One attempt at the processes: control plane, then the node; throws StartError on a port race. */
async function bootOnce(state: ClusterState, tools: Tools, limits: StartLimits, opts: DevClusterOptions) {
  const net = state.network!;
  const real = state.node === 'real';
  const cp = await bootControlPlane(state, tools, limits, {
    network: net,
    address: real ? net.hostIp : '127.0.0.1',
    realNode: real,
    leaves: real ? nodeLeaves : undefined,
  });
  const env = clusterEnv(state.dir, tools, cp.paths.kubeconfig);
  if (real)
    await startRealNode(cp, state, tools as ControlPlaneTools & RealNodeTools, net, env, opts.images ?? []);
  else await startKwokNode(cp, tools, net);
  await cp.ready();
  return { cp, env };
}

export async function startDevCluster(opts: DevClusterOptions = {}): Promise<DevCluster> {
  const node = opts.node ?? 'kwok';
  const tools: Tools = { ...controlPlaneTools(), ...(node === 'real' ? realNodeTools() : {}) };
  const timeoutMs = opts.readyTimeoutMs ?? 120_000;
  const limits: StartLimits = {
    timeoutMs,
    deadline: Date.now() + timeoutMs,
    log: opts.log ?? (() => undefined),
  };
  const dir = await prepareDir(opts);
  const keep = opts.keep ?? false;
  const kubeconfigPath = path.join(dir, 'kubeconfig');

  const exitHook = () => teardownNow(dir);
  if (!opts.detach) process.once('exit', exitHook);
  // Started once, before any component, so no moment exists where a death leaks processes.
  const watchdog = opts.detach ? undefined : startWatchdog(dir);
  const state: ClusterState = {
    version: 1,
    dir,
    server: '',
    kubeconfigPath,
    keep,
    startedAt: new Date().toISOString(),
    ready: false,
    ports: {},
    processes: [],
    watchdog,
    node,
  };
  let booted: Awaited<ReturnType<typeof bootOnce>> | undefined;
  try {
    await writeState(state);
    const owner = recordOf('owner', process.pid, '', process.execPath);
    const net = claimSlot(dir, owner, reclaimSlot);
    state.network = net;
    // Recorded before it is made: a crash right after still gets it removed.
    state.host = { guard: true };
    await writeState(state);
    installGuard(net);
    if (node === 'real') await prepareRealNode(state, net);
    for (let attempt = 1; !booted; attempt++) {
      try {
        booted = await bootOnce(state, tools, limits, opts);
      } catch (err) {
        const retry =
          err instanceof StartError &&
          err.portRace &&
          attempt < START_ATTEMPTS &&
          Date.now() < limits.deadline;
        if (!retry) throw err;
        await stopAll([...state.processes].reverse());
        state.processes = [];
        state.ports = {};
      }
    }
  } catch (err) {
    await teardown(dir, { removeDir: !keep });
    process.removeListener('exit', exitHook);
    const where = keep ? ` (logs kept in ${dir}/logs)` : '';
    throw new Error(`dev cluster failed to start: ${(err as Error).message}${where}`, { cause: err });
  }
  state.ready = true;
  await writeState(state);

  const { cp, env } = booted;
  const net = state.network!;
  const real = node === 'real';
  const needReal = (what: string) => {
    if (!real) throw new Error(`${what} needs a real node: start the cluster with { node: 'real' }`);
  };
  let stopped: Promise<void> | undefined;
  return {
    dir,
    kubeconfigPath,
    server: state.server,
    caPem: cp.pki.ca.cert,
    env,
    node,
    nodeName: real ? NODE_NAME : FAKE_NODE_NAME,
    network: net,
    kubectl: (args, runOpts) => runTool(tools.kubectl, args, env, runOpts),
    helm: (args, runOpts) => runTool(tools.helm, args, env, runOpts),
    importImages: async (archives) => {
      needReal('importImages');
      await importImages(tools.ctr!, containerdPaths(dir).socket, archives);
    },
    relay: async (target) => {
      needReal('relay');
      return startRelay(cp.launcher, net.hostIp, target);
    },
    stop: () =>
      (stopped ??= teardown(dir).finally(() => {
        process.removeListener('exit', exitHook);
      })),
  };
}

/** Whether the cluster in `dir` answers /readyz (with the admin certificate kept there). */
export async function probeReady(dir: string): Promise<boolean> {
  const state = readState(dir);
  if (!state?.server) return false;
  const pkiFile = (name: string) => readFileSync(path.join(dir, 'pki', name), 'utf8');
  try {
    const res = await fetchText(`${state.server}/readyz`, {
      ca: pkiFile('ca.crt'),
      cert: pkiFile('admin.crt'),
      key: pkiFile('admin.key'),
    });
    return res.status === 200;
  } catch {
    return false;
  }
}
