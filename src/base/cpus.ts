/**
 * How many CPUs this process may use: the cores it may run on, bounded by its cgroup's CPU
 * quota (a container's CPU limit), which os.availableParallelism() does not read.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** The quota in CPUs from cgroup v2 `cpu.max` (`max 100000` or `200000 100000`) or v1 files; undefined when unlimited. */
export function cgroupCpuQuota(root = '/sys/fs/cgroup'): number | undefined {
  const read = (file: string) => {
    try {
      return readFileSync(`${root}/${file}`, 'utf8').trim();
    } catch {
      return undefined;
    }
  };
  const v2 = read('cpu.max')?.split(/\s+/);
  if (v2) return v2[0] === 'max' ? undefined : Number(v2[0]) / Number(v2[1]);
  const quota = Number(read('cpu/cpu.cfs_quota_us') ?? read('cpu.cfs_quota_us'));
  const period = Number(read('cpu/cpu.cfs_period_us') ?? read('cpu.cfs_period_us'));
  return quota > 0 && period > 0 ? quota / period : undefined;
}

export function usableCpus(root?: string): number {
  const quota = cgroupCpuQuota(root);
  const cores = availableParallelism();
  return quota !== undefined && quota > 0 ? Math.min(cores, Math.ceil(quota)) : cores;
}
