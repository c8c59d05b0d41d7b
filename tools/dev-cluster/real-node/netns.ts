/**
 * A real node's network: its own network namespace, linked to the host by a veth pair (the
 * host's end gets `hostIp`, the node's `nodeIp`). containerd, the kubelet and kube-proxy run
 * inside it, so the CNI bridge, kube-proxy's iptables chains, the node's sysctls and the pods'
 * routes all live and die with the namespace: the host keeps only a route to the cluster's
 * block, through the link. Two real nodes never share a name, an address or a chain.
 *
 * Inside the namespace, a packet for the block that would leave by the link again (a ClusterIP
 * kube-proxy does not rewrite, a pod IP with no pod) is rejected there: a TCP reset, at once
 * (an `unreachable` route answers only about once a second: the kernel rate-limits those
 * errors with a machine-wide setting).
 */
import { existsSync } from 'node:fs';
import { host } from '../host.js';
import type { ClusterNetwork } from '../slots.js';

export const netnsName = (slot: number) => `reprise-node-${slot}`;
export const netnsPath = (slot: number) => `/run/netns/${netnsName(slot)}`;
const hostLink = (slot: number) => `rpnode${slot}h`;
const nodeLink = (slot: number) => `rpnode${slot}n`;

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
  host('ip', ['route', 'add', net.block, 'via', net.nodeIp, 'dev', h]);
  // TCP gets a reset; anything else an ICMP port unreachable (not rate-limited: see below).
  const rejects = [
    ['-p', 'tcp', '-j', 'REJECT', '--reject-with', 'tcp-reset'],
    ['-j', 'REJECT', '--reject-with', 'icmp-port-unreachable'],
  ];
  for (const chain of ['FORWARD', 'OUTPUT']) {
    // The host's end of the link is in the block too, and is what pods and the node reach.
    nodeHost(net.slot, 'iptables', ['-w', '10', '-A', chain, '-o', n, '-d', net.hostIp, '-j', 'ACCEPT']);
    for (const target of rejects)
      nodeHost(net.slot, 'iptables', ['-w', '10', '-A', chain, '-o', n, '-d', net.block, ...target]);
  }
  // The node routes between the link and the pods' bridge; bridged pod-to-pod traffic passes
  // iptables (kube-proxy's rewrites for a ClusterIP whose pod is on the same bridge); the
  // rejections above are not rate-limited.
  nodeHost(net.slot, 'sh', [
    '-c',
    'echo 1 > /proc/sys/net/ipv4/ip_forward && echo 1 > /proc/sys/net/bridge/bridge-nf-call-iptables' +
      ' && echo 0 > /proc/sys/net/ipv4/icmp_ratelimit',
  ]);
}

/** Deletes the namespace (its links, bridge, routes and iptables go with it); idempotent. */
export function removeNodeNetwork(slot: number): void {
  if (existsSync(netnsPath(slot))) host('ip', ['netns', 'delete', netnsName(slot)], { allowFail: true });
  // The host's end goes with its peer; a crash between the two `ip link` steps leaves it alone.
  host('ip', ['link', 'delete', hostLink(slot)], { allowFail: true });
}
