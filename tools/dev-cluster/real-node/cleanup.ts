/**
 * Undoes what a real node left on the machine after its processes were stopped, whatever way
 * they ended: containerd's shims and the containers (they outlive containerd), the pods'
 * network namespaces, the mounts under the cluster folder (the kubelet's own bind mount, pod
 * volumes, container root filesystems), the node's cgroup and network namespace, the CNI
 * plugins' cache files, the kubelet's log links, and the kernel tunables the kubelet set.
 * Synchronous, so it also runs from an exit hook. Idempotent.
 */
import { readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
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

/** The shims of this node's containerd: their command line names its socket. */
function shimPids(socket: string): number[] {
  return listDir('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        return path.basename(argv[0]).startsWith('containerd-shim') && argv.includes(socket);
      } catch {
        return false;
      }
    })
    .map(Number);
}

function killLeftovers(socket: string, cgroupRoot: string | undefined): void {
  for (const deadline = Date.now() + KILL_WAIT_MS; ; sleepSync(50)) {
    const pids = [...shimPids(socket), ...(cgroupRoot ? cgroupPids(cgroupRoot) : [])];
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

/** The pods' namespaces (containerd names them cni-*) whose interface has an address of ours. */
function removePodNetns(net: ClusterNetwork): void {
  for (const name of listDir('/run/netns').filter((n) => n.startsWith('cni-'))) {
    const addrs = host('ip', ['-n', name, '-j', '-4', 'addr', 'show'], { allowFail: true });
    let ours = false;
    try {
      const links = JSON.parse(addrs.stdout || '[]') as { addr_info?: { local?: string }[] }[];
      ours = links.some((l) => l.addr_info?.some((a) => a.local && inCidr(a.local, net.podCidr)));
    } catch {
      ours = false;
    }
    if (ours) host('ip', ['netns', 'delete', name], { allowFail: true });
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
  removePodNetns(net);
  unmountUnder(dir);
  if (changes.cgroupRoot) {
    const left = removeCgroupRoot(changes.cgroupRoot);
    if (left.length > 0) throw new Error(`cgroups of the real node could not be removed: ${left.join(', ')}`);
  }
  removeNodeNetwork(net.slot);
  if (changes.cniNetwork) {
    for (const file of listDir(CNI_CACHE).filter((f) => f.startsWith(`${changes.cniNetwork}-`)))
      rmSync(path.join(CNI_CACHE, file), { force: true });
  }
  for (const link of listDir(CONTAINER_LOG_LINKS)) {
    const file = path.join(CONTAINER_LOG_LINKS, link);
    try {
      if (readlinkSync(file).startsWith(dir + '/')) rmSync(file, { force: true });
    } catch {
      // Not a link.
    }
  }
  if (changes.kernelTunables && !otherRealNodeRuns(dir)) restoreKernelTunables();
}
