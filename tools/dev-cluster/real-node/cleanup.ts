/**
 * Undoes what a real node left on the machine after its processes were stopped, whatever way
 * they ended: containerd's shims and the containers (they outlive containerd), the pods'
 * network namespaces, the mounts under the cluster folder (the kubelet's own bind mount, pod
 * volumes, container root filesystems), the node's cgroup and network namespace, the CNI
 * plugins' cache files, the shims' sockets, the kubelet's log links, and (when no other real
 * node runs) the kernel tunables the kubelet set and the empty folders these lived in.
 * Synchronous, so it also runs from an exit hook. Idempotent.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, readlinkSync, rmdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { host } from '../host.js';
import { inCidr, otherRealNodeRuns, type ClusterNetwork } from '../slots.js';
import type { HostChanges } from '../state.js';
import { cgroupPids, removeCgroupRoot } from './cgroups.js';
import { containerdPaths } from './containerd.js';
import { restoreKernelTunables } from './kernel-tunables.js';
import { removeNodeNetwork } from './netns.js';

const KILL_WAIT_MS = 10_000;
const CNI_CACHE = '/var/lib/cni/results';
/** Where containerd 1.6 puts its shims' sockets, whatever its configured state folder. */
const SHIM_SOCKETS = '/run/containerd/s';
/** Hard-coded in the kubelet: a link per container into the pod logs folder. */
const CONTAINER_LOG_LINKS = '/var/log/containers';

const sleepSync = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

const listDir = (dir: string) => {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
};

/** The shims of this node's containerd (their command line names its socket), with their ids. */
function shims(socket: string): { pid: number; id: string }[] {
  return listDir('/proc')
    .filter((name) => /^\d+$/.test(name))
    .flatMap((pid) => {
      try {
        const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        if (!path.basename(argv[0]).startsWith('containerd-shim') || !argv.includes(socket)) return [];
        return [{ pid: Number(pid), id: argv[argv.indexOf('-id') + 1] ?? '' }];
      } catch {
        return [];
      }
    });
}

/**
 * A shim killed by a signal leaves its socket in containerd's fixed folder: containerd 1.6
 * names it sha256(address/namespace/id) (runtime/v2/shim/util_unix.go, SocketAddress).
 */
function removeShimSocket(socket: string, id: string): void {
  const name = createHash('sha256')
    .update(path.join(socket, 'k8s.io', id))
    .digest('hex');
  rmSync(path.join(SHIM_SOCKETS, name), { force: true });
}

function killLeftovers(socket: string, cgroupRoot: string | undefined): void {
  for (const deadline = Date.now() + KILL_WAIT_MS; ; sleepSync(50)) {
    const found = shims(socket);
    for (const shim of found) removeShimSocket(socket, shim.id);
    const pids = [...found.map((s) => s.pid), ...(cgroupRoot ? cgroupPids(cgroupRoot) : [])];
    if (pids.length === 0) return;
    if (Date.now() > deadline)
      throw new Error(`processes of the real node survive SIGKILL: ${pids.join(', ')}`);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
  }
}

/**
 * The pods' namespaces (containerd names them cni-*) whose interface has an address of ours;
 * returns their names.
 */
function removePodNetns(net: ClusterNetwork): string[] {
  const removed: string[] = [];
  for (const name of listDir('/run/netns').filter((n) => n.startsWith('cni-'))) {
    const addrs = host('ip', ['-n', name, '-j', '-4', 'addr', 'show'], { allowFail: true });
    let ours = false;
    try {
      const links = JSON.parse(addrs.stdout || '[]') as { addr_info?: { local?: string }[] }[];
      ours = links.some((l) => l.addr_info?.some((a) => a.local && inCidr(a.local, net.podCidr)));
    } catch {
      ours = false;
    }
    if (ours) {
      host('ip', ['netns', 'delete', name], { allowFail: true });
      removed.push(name);
    }
  }
  return removed;
}

/** The CNI plugins' cached results of this node: its network's, and the loopback's of its pods. */
function removeCniCache(network: string | undefined, podNetns: string[]): void {
  for (const file of listDir(CNI_CACHE)) {
    const full = path.join(CNI_CACHE, file);
    let ours = network !== undefined && file.startsWith(`${network}-`);
    if (!ours) {
      try {
        const text = readFileSync(full, 'utf8');
        ours = podNetns.some((name) => text.includes(`/netns/${name}"`));
      } catch {
        ours = false;
      }
    }
    if (ours) rmSync(full, { force: true });
  }
}

/** Folders the node's programs create outside the cluster folder: removed once empty and unused. */
function removeSharedFolders(): void {
  for (const dir of [
    SHIM_SOCKETS,
    path.dirname(SHIM_SOCKETS),
    CNI_CACHE,
    path.dirname(CNI_CACHE),
    CONTAINER_LOG_LINKS,
  ]) {
    try {
      rmdirSync(dir);
    } catch {
      // Not empty (another node's, or the machine's own), or absent.
    }
  }
}

/** Mount points at or under `dir`, deepest first. */
export function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((mount): mount is string => Boolean(mount))
    .map((mount) => mount.replace(/\\040/g, ' '))
    .filter((mount) => mount === dir || mount.startsWith(dir + '/'))
    .sort((a, b) => b.length - a.length);
}

function unmountUnder(dir: string): void {
  // A mount may be stacked several times on one point (the kubelet's bind of its root dir).
  for (let round = 0; round < 5; round++) {
    const mounts = mountsUnder(dir);
    if (mounts.length === 0) return;
    for (const mount of mounts) {
      if (!host('umount', [mount], { allowFail: true }).ok)
        host('umount', ['-l', mount], { allowFail: true });
    }
  }
  const left = mountsUnder(dir);
  if (left.length > 0) throw new Error(`mounts under ${dir} survive umount: ${left.join(', ')}`);
}

export function cleanupRealNode(dir: string, net: ClusterNetwork, changes: HostChanges): void {
  killLeftovers(containerdPaths(dir).socket, changes.cgroupRoot);
  const podNetns = removePodNetns(net);
  unmountUnder(dir);
  if (changes.cgroupRoot) {
    const left = removeCgroupRoot(changes.cgroupRoot);
    if (left.length > 0) throw new Error(`cgroups of the real node could not be removed: ${left.join(', ')}`);
  }
  removeNodeNetwork(net.slot);
  removeCniCache(changes.cniNetwork, podNetns);
  for (const link of listDir(CONTAINER_LOG_LINKS)) {
    const file = path.join(CONTAINER_LOG_LINKS, link);
    try {
      if (readlinkSync(file).startsWith(dir + '/')) rmSync(file, { force: true });
    } catch {
      // Not a link.
    }
  }
  if (!otherRealNodeRuns(dir)) {
    if (changes.kernelTunables) restoreKernelTunables();
    removeSharedFolders();
  }
}
