/**
 * A real node's network: its own network namespace, linked to the host by a veth pair (the
 * host's end gets `hostIp`, the node's `nodeIp`). containerd, the kubelet and kube-proxy run
 * inside it, so the CNI bridge, kube-proxy's iptables chains, the node's sysctls and the pods'
 * routes all live and die with the namespace: the host keeps only a route to the cluster's
 * block, through the link. Two real nodes never share a name, an address or a chain.
 *
 * Inside the namespace, the block is `unreachable` behind the more specific routes (the pods'
 * bridge, the link): a ClusterIP kube-proxy does not rewrite, or a pod IP with no pod, is
 * refused at once with ICMP, never sent back out.
 */
import { existsSync } from 'node:fs';
import { host } from '../host.js';
import type { ClusterNetwork } from '../slots.js';

export const netnsName = (slot: number) => `reprise-node-${slot}`;
export const netnsPath = (slot: number) => `/run/netns/${netnsName(slot)}`;
const hostLink = (slot: number) => `rpnode${slot}h`;
const nodeLink = (slot: number) => `rpnode${slot}n`;
/** Below any route the kernel or CNI adds for the same prefix. */
const FALLBACK_METRIC = '4096';

/** `nsenter` prefix that runs a command in the node's namespace (and only that namespace). */
export const inNodeNetns = (slot: number) => ['nsenter', `--net=${netnsPath(slot)}`, '--'];

/** Runs a command in the node's namespace. */
export const nodeHost = (slot: number, command: string, args: string[]) =>
  host(inNodeNetns(slot)[0], [...inNodeNetns(slot).slice(1), command, ...args]);

export function createNodeNetwork(net: ClusterNetwork): void {
  const ns = netnsName(net.slot);
  const [h, n] = [hostLink(net.slot), nodeLink(net.slot)];
  const ipNs = (...args: string[]) => host('ip', ['-n', ns, ...args]);
  host('ip', ['netns', 'add', ns]);
  host('ip', ['link', 'add', h, 'type', 'veth', 'peer', 'name', n, 'netns', ns]);
  host('ip', ['addr', 'add', `${net.hostIp}/${net.linkPrefix}`, 'dev', h]);
  host('ip', ['link', 'set', h, 'up']);
  ipNs('link', 'set', 'lo', 'up');
  ipNs('addr', 'add', `${net.nodeIp}/${net.linkPrefix}`, 'dev', n);
  ipNs('link', 'set', n, 'up');
  ipNs('route', 'add', 'default', 'via', net.hostIp);
  ipNs('route', 'add', 'unreachable', net.block, 'metric', FALLBACK_METRIC);
  host('ip', ['route', 'add', net.block, 'via', net.nodeIp, 'dev', h]);
  // The node routes between the link and the pods' bridge; bridged pod-to-pod traffic passes
  // iptables (kube-proxy's rewrites for a ClusterIP whose pod is on the same bridge).
  nodeHost(net.slot, 'sh', [
    '-c',
    'echo 1 > /proc/sys/net/ipv4/ip_forward && echo 1 > /proc/sys/net/bridge/bridge-nf-call-iptables',
  ]);
}

/** Deletes the namespace (its links, bridge, routes and iptables go with it); idempotent. */
export function removeNodeNetwork(slot: number): void {
  if (existsSync(netnsPath(slot))) host('ip', ['netns', 'delete', netnsName(slot)], { allowFail: true });
  // The host's end goes with its peer; a crash between the two `ip link` steps leaves it alone.
  host('ip', ['link', 'delete', hostLink(slot)], { allowFail: true });
}
