/**
 * A real Kubernetes control plane on loopback for tests and for people (the envtest way, plus
 * the controllers envtest leaves out): etcd, kube-apiserver, kube-controller-manager,
 * kube-scheduler, and KWOK playing the kubelet of one fake Node, so Deployments roll out to
 * Ready pods. Everything lives in one folder (PKI, kubeconfig, etcd data, logs, state.json).
 */
import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import { stringify as toYaml } from 'yaml';
import { createClusterPki, type ClusterPki } from './certs.js';
import { fetchText, freePorts } from './net.js';
import { isRunning, logTail, recordOf, spawnComponent, stopAll, type ProcessEntry } from './processes.js';
import {
  readState,
  runningProcesses,
  teardown,
  teardownNow,
  writeState,
  type ClusterState,
} from './state.js';
import { runTool, type ToolResult, type ToolRunOptions } from './run-tool.js';
import { controlPlaneTools, type ControlPlaneTools } from './tools.js';

export interface DevCluster {
  /** Holds the PKI, kubeconfig, etcd data, logs and state.json. */
  dir: string;
  kubeconfigPath: string;
  /** https://127.0.0.1:PORT */
  server: string;
  /** The cluster CA (PEM). */
  caPem: string;
  /** process.env + KUBECONFIG + PATH with kubectl and helm first (and private helm/kubectl caches). */
  env: NodeJS.ProcessEnv;
  kubectl(args: string[], opts?: ToolRunOptions): Promise<ToolResult>;
  helm(args: string[], opts?: ToolRunOptions): Promise<ToolResult>;
  /** Kills every process it started (and their children); removes dir unless keep. */
  stop(): Promise<void>;
}

export interface DevClusterOptions {
  /** Default: a new folder under the OS temp dir. */
  dir?: string;
  /** Keep dir after stop (logs, etcd data). */
  keep?: boolean;
  /**
   * The cluster outlives this process (the `up` command): no exit hook, no watchdog; stop it
   * with `down` (or stop()).
   */
  detach?: boolean;
  /** Bound on the whole start; default 120 s (about 10 s is typical). */
  readyTimeoutMs?: number;
  /** Progress lines (component started, ready), with the seconds since the start. */
  log?: (msg: string) => void;
}

/** The Node KWOK manages; annotated so KWOK takes it (and only it). */
export const FAKE_NODE_NAME = 'kwok-node-0';
const KWOK_ANNOTATION = 'kwok.x-k8s.io/node';
const POLL_MS = 100;
/** Ports taken between our probe and the component's bind (other clusters start too): retry. */
const START_ATTEMPTS = 3;

/** Admin access to the API server with the cluster's client certificate. */
function apiClient(server: string, pki: ClusterPki) {
  const tls = { ca: pki.ca.cert, cert: pki.admin.cert, key: pki.admin.key };
  return {
    get: (apiPath: string) => fetchText(server + apiPath, tls),
    post: (apiPath: string, object: unknown) =>
      fetchText(server + apiPath, {
        ...tls,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(object),
      }),
  };
}

interface Paths {
  pki: string;
  logs: string;
  kubeconfig: string;
}

function writeFiles(dir: string, pki: ClusterPki, server: string): Paths {
  const paths = {
    pki: path.join(dir, 'pki'),
    logs: path.join(dir, 'logs'),
    kubeconfig: path.join(dir, 'kubeconfig'),
  };
  mkdirSync(paths.pki, { recursive: true, mode: 0o700 });
  mkdirSync(paths.logs, { recursive: true });
  const files: Record<string, string> = {
    'ca.crt': pki.ca.cert,
    'ca.key': pki.ca.key,
    'apiserver.crt': pki.serving.cert,
    'apiserver.key': pki.serving.key,
    'admin.crt': pki.admin.cert,
    'admin.key': pki.admin.key,
    'sa.key': pki.serviceAccount.key,
    'sa.pub': pki.serviceAccount.pub,
  };
  for (const [name, text] of Object.entries(files))
    writeFileSync(path.join(paths.pki, name), text, { mode: 0o600 });
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  // Data embedded, so the file works wherever it is copied.
  const kubeconfig = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'reprise-dev', cluster: { server, 'certificate-authority-data': b64(pki.ca.cert) } }],
    users: [
      {
        name: 'reprise-admin',
        user: { 'client-certificate-data': b64(pki.admin.cert), 'client-key-data': b64(pki.admin.key) },
      },
    ],
    contexts: [
      {
        name: 'reprise-dev',
        context: { cluster: 'reprise-dev', user: 'reprise-admin', namespace: 'default' },
      },
    ],
    'current-context': 'reprise-dev',
  };
  writeFileSync(paths.kubeconfig, toYaml(kubeconfig), { mode: 0o600 });
  return paths;
}

function clusterEnv(dir: string, tools: ControlPlaneTools, kubeconfigPath: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    KUBECONFIG: kubeconfigPath,
    PATH: [tools.bin, process.env.PATH].filter(Boolean).join(path.delimiter),
    // Private caches: no discovery cache or helm repo state shared with the user's own clusters.
    KUBECACHEDIR: path.join(dir, 'cache/kube'),
    HELM_CACHE_HOME: path.join(dir, 'cache/helm'),
    HELM_CONFIG_HOME: path.join(dir, 'config/helm'),
    HELM_DATA_HOME: path.join(dir, 'data/helm'),
  };
}

class StartError extends Error {
  constructor(
    message: string,
    /** A port was taken between our probe and the component's bind: worth another try. */
    readonly portRace: boolean,
  ) {
    super(message);
  }
}

interface StartLimits {
  /** The whole start's bound, and when it runs out. */
  timeoutMs: number;
  deadline: number;
  log: (msg: string) => void;
}

/** Starts components one by one, recording each in state.json the moment it exists. */
class Launcher {
  private readonly began = Date.now();

  constructor(
    private readonly state: ClusterState,
    private readonly logs: string,
    private readonly limits: StartLimits,
  ) {}

  private progress(msg: string): void {
    this.limits.log(`${((Date.now() - this.began) / 1000).toFixed(1).padStart(5)} s  ${msg}`);
  }

  async start(name: string, command: string, args: string[]): Promise<ProcessEntry> {
    const entry = spawnComponent({ name, command, args, logFile: path.join(this.logs, `${name}.log`) });
    this.state.processes.push(entry);
    await writeState(this.state);
    this.progress(`started ${name} (pid ${entry.pid})`);
    return entry;
  }

  /** Throws, with the log's tail, when a component already exited. */
  checkAlive(): void {
    const dead = this.state.processes.find((entry) => !isRunning(entry));
    if (!dead) return;
    const tail = logTail(dead.logFile);
    throw new StartError(
      `${dead.name} exited during start (log ${dead.logFile}):\n${tail}`,
      /address already in use/i.test(tail),
    );
  }

  /** Polls `check` until it holds, failing early when a component dies. */
  async waitFor(what: string, check: () => Promise<boolean>, blame?: ProcessEntry): Promise<void> {
    let lastError = '';
    for (;;) {
      this.checkAlive();
      try {
        // One slow probe (5 s request bound) must not carry the wait past the deadline.
        const remaining = Math.max(0, this.limits.deadline - Date.now());
        const cancel = new AbortController();
        const timedOut = delay(remaining, false, { signal: cancel.signal }).catch(() => false);
        const ok = await Promise.race([check(), timedOut]).finally(() => cancel.abort());
        if (ok) return this.progress(`ready: ${what}`);
      } catch (err) {
        lastError = (err as Error).message;
      }
      if (Date.now() >= this.limits.deadline) {
        const tail = blame ? `\n${blame.name} log (${blame.logFile}):\n${logTail(blame.logFile)}` : '';
        throw new StartError(
          `timed out (start bound ${this.limits.timeoutMs} ms) waiting for ${what}${lastError ? ` (last error: ${lastError})` : ''}${tail}`,
          false,
        );
      }
      await delay(POLL_MS);
    }
  }
}

const fakeNode = {
  apiVersion: 'v1',
  kind: 'Node',
  metadata: {
    name: FAKE_NODE_NAME,
    annotations: { [KWOK_ANNOTATION]: 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
    labels: {
      'kubernetes.io/hostname': FAKE_NODE_NAME,
      'kubernetes.io/os': 'linux',
      'kubernetes.io/arch': 'amd64',
      type: 'kwok',
    },
  },
  // Nodes take status on create; KWOK then keeps the conditions and lease fresh.
  status: {
    allocatable: { cpu: '32', memory: '256Gi', pods: '250' },
    capacity: { cpu: '32', memory: '256Gi', pods: '250' },
  },
};

const isReadyNode = (body: string) =>
  (
    JSON.parse(body) as { status?: { conditions?: { type: string; status: string }[] } }
  ).status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

async function bootControlPlane(
  state: ClusterState,
  tools: ControlPlaneTools,
  limits: StartLimits,
): Promise<ClusterPki> {
  const pki = await createClusterPki();
  // A previous attempt's etcd data belongs to another member URL.
  rmSync(path.join(state.dir, 'etcd'), { recursive: true, force: true });
  const [etcdPort, etcdPeerPort, apiPort, kcmPort, schedulerPort] = await freePorts(5);
  state.ports = {
    etcd: etcdPort,
    etcdPeer: etcdPeerPort,
    apiserver: apiPort,
    controllerManager: kcmPort,
    scheduler: schedulerPort,
  };
  state.server = `https://127.0.0.1:${apiPort}`;
  const paths = writeFiles(state.dir, pki, state.server);
  const pkiFile = (name: string) => path.join(paths.pki, name);
  const launcher = new Launcher(state, paths.logs, limits);
  await writeState(state);

  const etcdUrl = `http://127.0.0.1:${etcdPort}`;
  const etcdPeerUrl = `http://127.0.0.1:${etcdPeerPort}`;
  const etcd = await launcher.start('etcd', tools.etcd, [
    '--name=default',
    `--data-dir=${path.join(state.dir, 'etcd')}`,
    `--listen-client-urls=${etcdUrl}`,
    `--advertise-client-urls=${etcdUrl}`,
    `--listen-peer-urls=${etcdPeerUrl}`,
    `--initial-advertise-peer-urls=${etcdPeerUrl}`,
    `--initial-cluster=default=${etcdPeerUrl}`,
    '--logger=zap',
    '--log-level=warn',
  ]);
  await launcher.waitFor(
    `etcd to answer on ${etcdUrl}/health`,
    async () => /"health":\s*"true"/.test((await fetchText(`${etcdUrl}/health`)).body),
    etcd,
  );

  const apiserver = await launcher.start('kube-apiserver', tools.kubeApiserver, [
    `--etcd-servers=${etcdUrl}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${apiPort}`,
    `--cert-dir=${paths.pki}`,
    `--tls-cert-file=${pkiFile('apiserver.crt')}`,
    `--tls-private-key-file=${pkiFile('apiserver.key')}`,
    `--client-ca-file=${pkiFile('ca.crt')}`,
    `--service-account-issuer=${state.server}`,
    `--service-account-key-file=${pkiFile('sa.pub')}`,
    `--service-account-signing-key-file=${pkiFile('sa.key')}`,
    '--service-cluster-ip-range=10.96.0.0/16',
    '--authorization-mode=RBAC',
    '--allow-privileged=true',
    // Pods need no token volume (no kubelet mounts one), so they never wait for a ServiceAccount.
    '--disable-admission-plugins=ServiceAccount',
  ]);
  const api = apiClient(state.server, pki);
  await launcher.waitFor(
    `kube-apiserver ${state.server}/readyz`,
    async () => (await api.get('/readyz')).status === 200,
    apiserver,
  );

  // One admin kubeconfig for the components too: a test cluster needs no separate identities.
  const kubeconfigFlags = ['kubeconfig', 'authentication-kubeconfig', 'authorization-kubeconfig'].map(
    (flag) => `--${flag}=${paths.kubeconfig}`,
  );
  const controllerManager = await launcher.start('kube-controller-manager', tools.kubeControllerManager, [
    ...kubeconfigFlags,
    `--service-account-private-key-file=${pkiFile('sa.key')}`,
    `--root-ca-file=${pkiFile('ca.crt')}`,
    `--cluster-signing-cert-file=${pkiFile('ca.crt')}`,
    `--cluster-signing-key-file=${pkiFile('ca.key')}`,
    '--leader-elect=false',
    '--bind-address=127.0.0.1',
    `--secure-port=${kcmPort}`,
    '--controllers=*',
  ]);
  const scheduler = await launcher.start('kube-scheduler', tools.kubeScheduler, [
    ...kubeconfigFlags,
    '--leader-elect=false',
    '--bind-address=127.0.0.1',
    `--secure-port=${schedulerPort}`,
  ]);
  // Its log's "RequestWatchProgress is disabled" warnings are harmless: etcd 3.4 cannot
  // stream lists, and KWOK's client falls back to list + watch.
  const kwok = await launcher.start('kwok', tools.kwok, [
    `--kubeconfig=${paths.kubeconfig}`,
    `--config=${tools.kwokStages}`,
    '--manage-all-nodes=false',
    `--manage-nodes-with-annotation-selector=${KWOK_ANNOTATION}=fake`,
    '--manage-nodes-with-label-selector=',
    '--cidr=10.244.0.1/16',
    '--node-ip=10.0.0.1',
  ]);

  const created = await api.post('/api/v1/nodes', fakeNode);
  if (created.status !== 201 && created.status !== 409) {
    throw new StartError(`creating Node ${FAKE_NODE_NAME} failed: ${created.status} ${created.body}`, false);
  }
  // The components' own health endpoints are self-signed and open to anyone on /healthz.
  const healthz = (port: number) => async () =>
    (await fetchText(`https://127.0.0.1:${port}/healthz`, { rejectUnauthorized: false })).status === 200;
  await Promise.all([
    launcher.waitFor(`kube-controller-manager /healthz on :${kcmPort}`, healthz(kcmPort), controllerManager),
    launcher.waitFor(`kube-scheduler /healthz on :${schedulerPort}`, healthz(schedulerPort), scheduler),
    launcher.waitFor(
      `Node ${FAKE_NODE_NAME} to turn Ready (KWOK)`,
      async () => {
        const node = await api.get(`/api/v1/nodes/${FAKE_NODE_NAME}`);
        return node.status === 200 && isReadyNode(node.body);
      },
      kwok,
    ),
    // Created by kube-controller-manager's serviceaccount controller; manifests assume it.
    launcher.waitFor(
      'the default ServiceAccount in namespace default',
      async () => (await api.get('/api/v1/namespaces/default/serviceaccounts/default')).status === 200,
      controllerManager,
    ),
  ]);
  return pki;
}

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
          `stop it first (node dist/src/kube/dev-cluster/cli.js down --dir ${dir})`,
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

export async function startDevCluster(opts: DevClusterOptions = {}): Promise<DevCluster> {
  const tools = controlPlaneTools();
  const timeoutMs = opts.readyTimeoutMs ?? 120_000;
  const deadline = Date.now() + timeoutMs;
  const limits: StartLimits = { timeoutMs, deadline, log: opts.log ?? (() => undefined) };
  const dir = await prepareDir(opts);
  const keep = opts.keep ?? false;
  const kubeconfigPath = path.join(dir, 'kubeconfig');

  const exitHook = () => teardownNow(dir);
  if (!opts.detach) process.once('exit', exitHook);

  // Started once, before any component, so no moment exists where a death leaks processes.
  const watchdog = opts.detach ? undefined : startWatchdog(dir);
  let pki: ClusterPki | undefined;
  let state: ClusterState | undefined;
  for (let attempt = 1; !pki; attempt++) {
    state = {
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
    };
    try {
      await writeState(state);
      pki = await bootControlPlane(state, tools, limits);
    } catch (err) {
      const retry =
        err instanceof StartError && err.portRace && attempt < START_ATTEMPTS && Date.now() < deadline;
      await stopAll([...state.processes].reverse());
      if (!retry) {
        await teardown(dir, { removeDir: !keep });
        process.removeListener('exit', exitHook);
        const where = keep ? ` (logs kept in ${dir}/logs)` : '';
        throw new Error(`dev cluster failed to start: ${(err as Error).message}${where}`, { cause: err });
      }
    }
  }
  const ready = state!;
  ready.ready = true;
  await writeState(ready);

  const env = clusterEnv(dir, tools, kubeconfigPath);
  let stopped: Promise<void> | undefined;
  return {
    dir,
    kubeconfigPath,
    server: ready.server,
    caPem: pki.ca.cert,
    env,
    kubectl: (args, runOpts) => runTool(tools.kubectl, args, env, runOpts),
    helm: (args, runOpts) => runTool(tools.helm, args, env, runOpts),
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
