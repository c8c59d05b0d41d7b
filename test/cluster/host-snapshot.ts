/**
 * What a dev cluster may change on this machine, read before it starts and after it stops, so
 * a test can assert that teardown left nothing behind: the network links, the iptables rules,
 * the CNI configuration folder, ip_forward and the kernel tunables the kubelet sets. Other
 * dev clusters may run at the same time on a shared machine: their own links and guard rules
 * (named by their slot) are left out of the comparison.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { KUBELET_TUNABLES } from '../../tools/dev-cluster/real-node/kernel-tunables.js';

export interface HostSnapshot {
  links: string[];
  iptables: string[];
  cniConfigs: string[];
  sysctls: Record<string, string>;
}

const SYSCTLS = ['net/ipv4/ip_forward', ...KUBELET_TUNABLES];

const listDir = (dir: string) => {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
};

export function hostSnapshot(): HostSnapshot {
  const links = JSON.parse(execFileSync('ip', ['-j', 'link', 'show'], { encoding: 'utf8' })) as {
    ifname: string;
  }[];
  return {
    links: links.map((l) => l.ifname).sort(),
    iptables: execFileSync('iptables-save', { encoding: 'utf8' })
      .split('\n')
      .filter((line) => line && !line.startsWith('#'))
      // Packet counters change all the time.
      .map((line) => line.replace(/\[\d+:\d+\]/g, '')),
    cniConfigs: listDir('/etc/cni/net.d'),
    sysctls: Object.fromEntries(SYSCTLS.map((s) => [s, readFileSync(`/proc/sys/${s}`, 'utf8').trim()])),
  };
}

/** The snapshot without other clusters' links and guard rules (named by their slots). */
export function withoutOtherClusters(snapshot: HostSnapshot, ownSlot: number): HostSnapshot {
  const other = (slot: string | undefined) => slot !== undefined && Number(slot) !== ownSlot;
  return {
    ...snapshot,
    links: snapshot.links.filter((name) => !other(/^rpnode(\d+)h$/.exec(name)?.[1])),
    iptables: snapshot.iptables.filter((line) => !other(/reprise-dev-cluster-slot-(\d+)/.exec(line)?.[1])),
  };
}

/** Mount points at or under `dir` (the kubelet's, pod volumes, container root filesystems). */
export function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((m): m is string => Boolean(m) && (m === dir || m.startsWith(dir + '/')));
}

/** Pids of processes whose command line names `text` (a cluster folder, a containerd socket). */
export function processesNaming(text: string): number[] {
  return listDir('/proc')
    .filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid)
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(text);
      } catch {
        return false;
      }
    })
    .map(Number);
}
