/**
 * Address ranges of a dev cluster, unique on this machine: each cluster claims a slot (a file
 * created exclusively in a machine-wide folder) and takes that slot's /22 of 10.244.0.0/14:
 * the pods' /23, the Services' /24 and a /30 linking the host to a real node. Two clusters
 * never share a range, so each can guard, route and clean up its own without touching another's.
 */
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { isRunning, type ProcessEntry } from './processes.js';
import { readState } from './state.js';

/** tmpfs: the claims vanish on reboot, with the iptables rules and namespaces they guard. */
export const SLOTS_DIR = process.env.REPRISE_CLUSTER_SLOTS_DIR || '/run/reprise-dev-clusters';
const SLOT_COUNT = 256;
const BASE = ipToInt('10.244.0.0');

export interface ClusterNetwork {
  slot: number;
  /** The slot's whole /22: what the guard refuses to send off the machine. */
  block: string;
  /** Pod IPs (the CNI bridge's, or KWOK's). */
  podCidr: string;
  /** The CNI bridge's own address: the pods' gateway. */
  podGateway: string;
  serviceCidr: string;
  /** ClusterIP of the `kubernetes` Service (the first of the range): in the API server's certificate. */
  apiServiceIp: string;
  /** ClusterIP of kube-dns (the kubelet's clusterDNS). */
  dnsServiceIp: string;
  /** The host's end of the link to a real node: the API server and relays listen here. */
  hostIp: string;
  /** The node's end (a real node's --node-ip; KWOK reports it as the fake node's address). */
  nodeIp: string;
  /** Prefix length of the link. */
  linkPrefix: number;
}

function ipToInt(ip: string): number {
  return ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

function intToIp(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

export function networkOf(slot: number): ClusterNetwork {
  const block = BASE + slot * 1024;
  const at = (offset: number) => intToIp(block + offset);
  return {
    slot,
    block: `${at(0)}/22`,
    podCidr: `${at(0)}/23`,
    podGateway: at(1),
    serviceCidr: `${at(512)}/24`,
    apiServiceIp: at(513),
    dnsServiceIp: at(522),
    hostIp: at(769),
    nodeIp: at(770),
    linkPrefix: 30,
  };
}

interface Claim {
  dir: string;
  owner: ProcessEntry;
}

const slotFile = (slot: number) => path.join(SLOTS_DIR, `${slot}.json`);

/**
 * A claim is stale when neither its cluster (state.json's processes) nor the process that
 * claimed it runs: a crash between claim and start, or a cluster killed with its watchdog.
 */
function isStale(claim: Claim, slot: number): boolean {
  if (isRunning(claim.owner)) return false;
  const state = readState(claim.dir);
  return state?.network?.slot !== slot || !state.processes.some(isRunning);
}

function readClaim(slot: number): Claim | undefined {
  try {
    return JSON.parse(readFileSync(slotFile(slot), 'utf8')) as Claim;
  } catch {
    return undefined;
  }
}

/** Creates the slot file if nobody has it; false when taken. */
function tryCreate(slot: number, claim: Claim): boolean {
  let fd: number;
  try {
    fd = openSync(slotFile(slot), 'wx', 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    writeSync(fd, JSON.stringify(claim) + '\n');
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * Claims the first free slot for the cluster in `dir`. A stale claim is handed to `reclaim`
 * (which removes what that cluster left on the host) and then taken over.
 */
export function claimSlot(
  dir: string,
  owner: ProcessEntry,
  reclaim: (stale: ClusterNetwork, dir: string) => void,
): ClusterNetwork {
  mkdirSync(SLOTS_DIR, { recursive: true });
  const claim: Claim = { dir, owner };
  for (let slot = 0; slot < SLOT_COUNT; slot++) {
    if (tryCreate(slot, claim)) return networkOf(slot);
    const held = readClaim(slot);
    if (held && isStale(held, slot)) {
      reclaim(networkOf(slot), held.dir);
      try {
        unlinkSync(slotFile(slot));
      } catch {
        // Another cluster reclaimed it first: try it below like any other.
      }
      if (tryCreate(slot, claim)) return networkOf(slot);
    }
  }
  throw new Error(
    `all ${SLOT_COUNT} dev-cluster address slots in ${SLOTS_DIR} are taken: stop some clusters`,
  );
}

/** Gives the slot back, if `dir` still holds it. */
export function releaseSlot(slot: number, dir: string): void {
  if (readClaim(slot)?.dir !== dir) return;
  try {
    unlinkSync(slotFile(slot));
  } catch {
    // Gone already.
  }
}

/** Whether a real node other than `dir`'s runs on this machine (a live claim whose state says so). */
export function otherRealNodeRuns(dir: string): boolean {
  let files: string[];
  try {
    files = readdirSync(SLOTS_DIR).filter((f) => /^\d+\.json$/.test(f));
  } catch {
    return false;
  }
  return files.some((file) => {
    const slot = Number(file.split('.')[0]);
    const claim = readClaim(slot);
    return (
      claim !== undefined &&
      claim.dir !== dir &&
      !isStale(claim, slot) &&
      readState(claim.dir)?.node === 'real'
    );
  });
}

/** Whether `ip` (dotted IPv4) is inside `cidr`. */
export function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  const start = ipToInt(base);
  const n = ipToInt(ip);
  return n >= start && n < start + size;
}
