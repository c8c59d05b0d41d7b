/**
 * Where the dev cluster's binaries live. scripts/ensure-kube-tools.mjs puts them there (it
 * runs before any build, so it cannot import this module); the layout below is the same as
 * its `kubeToolPaths`.
 */
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../src/base/project-root.js';

export const ENSURE_COMMAND = 'node scripts/ensure-kube-tools.mjs';

const toolsRoot = () => process.env.REPRISE_TOOLS || path.join(projectRoot, '.tools');

/** kubectl and helm, and `bin`: their folder (put first on PATH). */
export function kubeToolPaths(): { kubectl: string; helm: string; bin: string } {
  const bin = path.join(toolsRoot(), 'kube-tools');
  return { kubectl: path.join(bin, 'kubectl'), helm: path.join(bin, 'helm'), bin };
}

export interface ControlPlaneTools {
  kubectl: string;
  helm: string;
  bin: string;
  etcd: string;
  kubeApiserver: string;
  kubeControllerManager: string;
  kubeScheduler: string;
  kwok: string;
  kwokStages: string;
}

function canAccess(file: string, mode: number): boolean {
  try {
    accessSync(file, mode);
    return true;
  } catch {
    return false;
  }
}

const isExecutable = (file: string) => canAccess(file, constants.X_OK);

function onPath(name: string): string | undefined {
  return (process.env.PATH ?? '')
    .split(path.delimiter)
    .filter(Boolean)
    .map((dir) => path.join(dir, name))
    .find(isExecutable);
}

export interface RealNodeTools {
  kubelet: string;
  kubeProxy: string;
  containerd: string;
  ctr: string;
  runc: string;
  nsenter: string;
  /** OCI archives for `ctr images import` (scripts/cluster/node-images.sh). */
  pauseImage: string;
  corednsImage: string;
}

/** Throws naming each missing file and the command that provides it. */
function requirePresent(tools: object, skip: string[], isReadable: string[] = []): void {
  const missing = Object.entries(tools)
    .filter(
      ([key, file]) =>
        !skip.includes(key) &&
        (isReadable.includes(key)
          ? !canAccess(file as string, constants.R_OK)
          : !isExecutable(file as string)),
    )
    .map(([, file]) => file as string);
  if (missing.length > 0) {
    throw new Error(
      `the dev cluster needs ${missing.join(', ')}, which ${missing.length === 1 ? 'is' : 'are'} missing: ` +
        `run \`${ENSURE_COMMAND}\` (installs etcd, containerd, runc, iptables and CNI plugins with apt-get, ` +
        'fetches kubectl and helm, builds the control plane, the node and their images: about 20 minutes the first time)',
    );
  }
}

/** What a real node runs besides the control plane. */
export function realNodeTools(): RealNodeTools {
  const k8s = path.join(toolsRoot(), 'k8s');
  const tools: RealNodeTools = {
    kubelet: path.join(k8s, 'bin', 'kubelet'),
    kubeProxy: path.join(k8s, 'bin', 'kube-proxy'),
    containerd: onPath('containerd') ?? 'containerd',
    ctr: onPath('ctr') ?? 'ctr',
    runc: onPath('runc') ?? 'runc',
    nsenter: onPath('nsenter') ?? 'nsenter',
    pauseImage: path.join(k8s, 'images', 'pause.oci.tar'),
    corednsImage: path.join(k8s, 'images', 'coredns.oci.tar'),
  };
  requirePresent(tools, [], ['pauseImage', 'corednsImage']);
  return tools;
}

/** Every binary the cluster runs; throws naming each missing one and the command that gets it. */
export function controlPlaneTools(): ControlPlaneTools {
  const k8s = path.join(toolsRoot(), 'k8s');
  const cp = (name: string) => path.join(k8s, 'bin', name);
  const tools: ControlPlaneTools = {
    ...kubeToolPaths(),
    etcd: onPath('etcd') ?? 'etcd',
    kubeApiserver: cp('kube-apiserver'),
    kubeControllerManager: cp('kube-controller-manager'),
    kubeScheduler: cp('kube-scheduler'),
    kwok: cp('kwok'),
    kwokStages: path.join(k8s, 'kwok-stages.yaml'),
  };
  requirePresent(tools, ['bin'], ['kwokStages']);
  return tools;
}
