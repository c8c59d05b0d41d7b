/**
 * The ignore lists: traffic that is proxied but not recorded. Paths apply to inbound requests
 * (exact, or a prefix when the entry ends in `*`); hosts and ports to outbound destinations
 * (a host entry `*.example.com` covers its subdomains); source IPs to inbound clients.
 */
import { isIPv4 } from 'node:net';
import { targetPath } from '../src/protocols/http1/pair.js';

export interface IgnoreLists {
  ignorePaths: string[];
  ignoreHosts: string[];
  ignorePorts: number[];
  ignoreSrcIps: string[];
}

export class Ignore {
  private readonly paths = new Set<string>();
  private readonly pathPrefixes: string[] = [];
  private readonly hosts = new Set<string>();
  private readonly hostSuffixes: string[] = [];
  private readonly ports: Set<number>;
  private readonly srcIps: Set<string>;
  /** The same paths as bytes (latin1, as request targets are read). */
  private readonly pathBytes: Buffer[];
  private readonly prefixBytes: Buffer[];

  constructor(lists: IgnoreLists) {
    for (const p of lists.ignorePaths) {
      if (p.endsWith('*')) this.pathPrefixes.push(p.slice(0, -1));
      else this.paths.add(p);
    }
    for (const h of lists.ignoreHosts.map((x) => x.toLowerCase())) {
      if (h.startsWith('*.')) this.hostSuffixes.push(h.slice(1));
      else this.hosts.add(h);
    }
    this.ports = new Set(lists.ignorePorts);
    this.srcIps = new Set(lists.ignoreSrcIps.map(normalizeIp));
    this.pathBytes = [...this.paths].map((p) => Buffer.from(p, 'latin1'));
    this.prefixBytes = this.pathPrefixes.map((p) => Buffer.from(p, 'latin1'));
  }

  /** `path` for the request target in `b[start, end)`, read from its bytes when it is origin-form. */
  targetIn(b: Buffer, start: number, end: number): boolean {
    if (this.pathBytes.length === 0 && this.prefixBytes.length === 0) return false;
    if (b[start] !== 47) return this.path(targetPath(b.toString('latin1', start, end)));
    let stop = start;
    while (stop < end && b[stop] !== 63 && b[stop] !== 35) stop++;
    const len = stop - start;
    for (const p of this.pathBytes) if (p.length === len && startsWith(b, start, p)) return true;
    for (const p of this.prefixBytes) if (p.length <= len && startsWith(b, start, p)) return true;
    return false;
  }

  path(path: string): boolean {
    if (this.paths.has(path)) return true;
    for (const p of this.pathPrefixes) if (path.startsWith(p)) return true;
    return false;
  }

  destination(host: string, port: number): boolean {
    if (this.ports.has(port)) return true;
    const h = host.toLowerCase();
    if (this.hosts.has(h)) return true;
    for (const s of this.hostSuffixes) if (h.endsWith(s)) return true;
    return false;
  }

  sourceIp(ip: string | undefined): boolean {
    return ip !== undefined && this.srcIps.size > 0 && this.srcIps.has(normalizeIp(ip));
  }
}

/** `::ffff:10.0.0.1` (an IPv4 client on a dual-stack socket) is `10.0.0.1`. */
export function normalizeIp(ip: string): string {
  const lower = ip.toLowerCase();
  return lower.startsWith('::ffff:') && isIPv4(lower.slice(7)) ? lower.slice(7) : lower;
}

function startsWith(b: Buffer, at: number, prefix: Buffer): boolean {
  for (let i = 0; i < prefix.length; i++) if (b[at + i] !== prefix[i]) return false;
  return true;
}
