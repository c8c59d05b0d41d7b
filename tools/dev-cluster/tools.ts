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
  const missing = Object.entries(tools)
    .filter(
      ([key, file]) =>
        key !== 'bin' && (key === 'kwokStages' ? !canAccess(file, constants.R_OK) : !isExecutable(file)),
    )
    .map(([, file]) => file);
  if (missing.length > 0) {
    throw new Error(
      `the dev cluster needs ${missing.join(', ')}, which ${missing.length === 1 ? 'is' : 'are'} missing: ` +
        `run \`${ENSURE_COMMAND}\` (installs etcd with apt-get, fetches kubectl and helm, ` +
        'builds the control plane: about 13 minutes the first time)',
    );
  }
  return tools;
}
