/**
 * The node's container runtime: Debian's containerd (1.6) and runc, with everything under the
 * cluster folder (root, state, socket, runc state, CNI configuration and IPAM data) so nothing
 * is shared with another cluster or the machine. Images come from OCI archives (no registry
 * here), imported into the `k8s.io` namespace the kubelet uses.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runTool } from '../run-tool.js';
import type { ClusterNetwork } from '../slots.js';

export interface ContainerdPaths {
  config: string;
  socket: string;
  cniConfDir: string;
}

export const PAUSE_IMAGE = 'localhost/reprise-pause:1';
export const cniNetworkName = (slot: number) => `reprise-node-${slot}`;

export function containerdPaths(dir: string): ContainerdPaths & { root: string } {
  const root = path.join(dir, 'containerd');
  return {
    root,
    config: path.join(root, 'config.toml'),
    socket: path.join(root, 'containerd.sock'),
    cniConfDir: path.join(dir, 'cni/net.d'),
  };
}

/** The CNI bridge of the pods, with its IPAM data in the cluster folder. */
function cniConfig(dir: string, net: ClusterNetwork): string {
  return JSON.stringify(
    {
      cniVersion: '0.4.0',
      name: cniNetworkName(net.slot),
      plugins: [
        {
          type: 'bridge',
          bridge: 'cni0',
          isGateway: true,
          // Pods reach the host by their own address (it routes the block back through the link).
          ipMasq: false,
          hairpinMode: true,
          ipam: {
            type: 'host-local',
            dataDir: path.join(dir, 'cni/ipam'),
            ranges: [[{ subnet: net.podCidr, gateway: net.podGateway }]],
            routes: [{ dst: '0.0.0.0/0' }],
          },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    },
    null,
    2,
  );
}

/** Writes containerd's config and the CNI configuration; returns the paths. */
export function writeContainerdConfig(dir: string, net: ClusterNetwork): ContainerdPaths {
  const p = containerdPaths(dir);
  mkdirSync(p.root, { recursive: true });
  mkdirSync(p.cniConfDir, { recursive: true });
  writeFileSync(path.join(p.cniConfDir, '10-reprise.conflist'), cniConfig(dir, net));
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  // TOML strings: JSON quoting is valid TOML for these plain paths.
  const q = JSON.stringify;
  writeFileSync(
    p.config,
    `version = 2
root = ${q(path.join(p.root, 'root'))}
state = ${q(path.join(p.root, 'state'))}
# Plugins that would create folders outside the cluster folder, or need what is not here.
disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]

[grpc]
  address = ${q(p.socket)}

[${cri}]
  sandbox_image = ${q(PAUSE_IMAGE)}
  # Root here lacks CAP_SYS_RESOURCE: a negative oom_score_adj is refused and every sandbox fails.
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  disable_apparmor = true
  [${cri}.cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = ${q(p.cniConfDir)}
  [${cri}.containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [${cri}.containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [${cri}.containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = ${q(path.join(p.root, 'runc'))}
`,
  );
  return p;
}

/** `ctr` against this node's containerd, in the kubelet's namespace. */
export function ctr(ctrPath: string, socket: string, args: string[], timeoutMs = 300_000) {
  return runTool(ctrPath, ['--address', socket, '--namespace', 'k8s.io', ...args], process.env, {
    timeoutMs,
  });
}

/** Imports OCI archives (one `ctr images import` each); throws naming the archive that failed. */
export async function importImages(ctrPath: string, socket: string, archives: string[]): Promise<void> {
  for (const archive of archives) {
    const result = await ctr(ctrPath, socket, ['images', 'import', archive]);
    if (result.code !== 0)
      throw new Error(`importing ${archive} into the node failed: ${result.stderr.trim()}`);
  }
}
