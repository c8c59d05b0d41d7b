/**
 * A real node's cgroup: the kubelet's `cgroupRoot`, one folder per cgroup v1 hierarchy (and the
 * v2 one when mounted). Each kubelet manages what is under its root and removes pod cgroups it
 * does not know, so two real nodes need a root each. Teardown kills what is left in it and
 * removes it, deepest first.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const cgroupRootOf = (slot: number) => `/reprise-node-${slot}`;

/** Mount points of the cgroup hierarchies (v1 and v2). */
function hierarchies(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' '))
    .filter((f) => {
      const sep = f.indexOf('-');
      return sep > 0 && (f[sep + 1] === 'cgroup' || f[sep + 1] === 'cgroup2');
    })
    .map((f) => f[4]);
}

export function createCgroupRoot(root: string): void {
  for (const mount of hierarchies()) {
    const dir = path.join(mount, root);
    mkdirSync(dir, { recursive: true });
    // A v1 cpuset starts empty, and a cgroup with no CPUs cannot hold a task.
    for (const file of ['cpuset.cpus', 'cpuset.mems']) {
      const parent = path.join(mount, file);
      if (existsSync(parent) && existsSync(path.join(dir, file)))
        writeFileSync(path.join(dir, file), readFileSync(parent, 'utf8').trim() || '\n');
    }
  }
}

/** Every folder of the tree, deepest first. */
function tree(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return [...entries.filter((e) => e.isDirectory()).flatMap((e) => tree(path.join(dir, e.name))), dir];
}

/** Pids of every process in the cgroup tree, in any hierarchy. */
export function cgroupPids(root: string): number[] {
  const pids = new Set<number>();
  for (const mount of hierarchies())
    for (const dir of tree(path.join(mount, root))) {
      try {
        for (const pid of readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n'))
          if (pid) pids.add(Number(pid));
      } catch {
        // Removed meanwhile.
      }
    }
  return [...pids];
}

/** Removes the cgroup tree; the folders still holding a process stay (the caller kills first). */
export function removeCgroupRoot(root: string): string[] {
  const left: string[] = [];
  for (const mount of hierarchies())
    for (const dir of tree(path.join(mount, root))) {
      try {
        rmdirSync(dir);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') left.push(dir);
      }
    }
  return left;
}
