/**
 * Nothing leaves the machine: a cluster's pod and Service addresses are private ones with no
 * host behind them outside this machine, so a packet to one of them that nothing here handles
 * (a ClusterIP with no Service, a pod IP KWOK only pretends exists, a webhook Service with no
 * pod) would follow the default route out. Before a cluster starts, REJECT rules for its own
 * /22 go into OUTPUT (the host's processes, such as the API server) and FORWARD (pods of a real
 * node), matched on each uplink (the default routes' devices): refused at once, ECONNREFUSED,
 * never a timeout. Only the cluster's block: never a whole private range (this machine's DNS
 * resolver sits in one).
 *
 * Matched on the uplink, so the host still reaches a real node's pods and ClusterIPs: those
 * are routed to the node's link (see real-node/netns.ts), never to the uplink. Each rule
 * carries the slot in a comment, which is how teardown (or a later cluster reclaiming a stale
 * slot) finds and removes exactly these rules.
 */
import { host, iptables } from './host.js';
import type { ClusterNetwork } from './slots.js';

const CHAINS = ['OUTPUT', 'FORWARD'] as const;
const commentOf = (slot: number) => `reprise-dev-cluster-slot-${slot}`;

/** The devices of this machine's IPv4 default routes. */
export function uplinks(): string[] {
  const routes = JSON.parse(host('ip', ['-j', '-4', 'route', 'show', 'default']).stdout || '[]') as {
    dev?: string;
  }[];
  return [...new Set(routes.map((r) => r.dev).filter((dev): dev is string => Boolean(dev)))];
}

/** Installs the guard for `net`'s block; returns the uplinks it covers. */
export function installGuard(net: ClusterNetwork): string[] {
  const devices = uplinks();
  for (const chain of CHAINS) {
    for (const dev of devices) {
      iptables([
        '-I',
        chain,
        '-o',
        dev,
        '-d',
        net.block,
        '-m',
        'comment',
        '--comment',
        commentOf(net.slot),
        '-j',
        'REJECT',
        '--reject-with',
        'icmp-port-unreachable',
      ]);
    }
  }
  return devices;
}

/** The guard's rules as `iptables -S` prints them (one string each). */
export function guardRules(slot: number): string[] {
  const mark = `--comment ${commentOf(slot)} `;
  return CHAINS.flatMap((chain) =>
    iptables(['-S', chain], { allowFail: true })
      .stdout.split('\n')
      .filter((line) => line.includes(mark)),
  );
}

/** Removes every rule of the slot's guard (idempotent; also a crashed cluster's). */
export function removeGuard(slot: number): void {
  for (const rule of guardRules(slot)) {
    // `-A CHAIN spec...` -> `-D CHAIN spec...`; the comment has no spaces, so split is safe.
    const args = rule.trim().split(/\s+/);
    iptables(['-D', ...args.slice(1)], { allowFail: true });
  }
}
