/** usableCpus: the cores, bounded by a cgroup CPU quota read from real files (v2 and v1 layouts). */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { cgroupCpuQuota, usableCpus } from '../../src/base/cpus.js';

describe('usableCpus', () => {
  const roots: string[] = [];
  const cgroup = (files: Record<string, string>) => {
    const root = mkdtempSync(path.join(tmpdir(), 'reprise-cgroup-'));
    roots.push(root);
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
      writeFileSync(path.join(root, name), text + '\n');
    }
    return root;
  };
  after(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

  it('reads a cgroup v2 limit, rounding a fraction of a CPU up', () => {
    const root = cgroup({ 'cpu.max': '150000 100000' });
    assert.equal(cgroupCpuQuota(root), 1.5);
    assert.equal(usableCpus(root), Math.min(2, availableParallelism()));
    assert.equal(usableCpus(cgroup({ 'cpu.max': '10000 100000' })), 1);
  });

  it('no limit (v2 "max", or no cgroup files): the cores the process may run on', () => {
    assert.equal(cgroupCpuQuota(cgroup({ 'cpu.max': 'max 100000' })), undefined);
    assert.equal(cgroupCpuQuota(cgroup({})), undefined);
    assert.equal(usableCpus(cgroup({})), availableParallelism());
  });

  it('reads a cgroup v1 quota; -1 there means none', () => {
    const v1 = cgroup({ 'cpu/cpu.cfs_quota_us': '300000', 'cpu/cpu.cfs_period_us': '100000' });
    assert.equal(cgroupCpuQuota(v1), 3);
    const none = cgroup({ 'cpu/cpu.cfs_quota_us': '-1', 'cpu/cpu.cfs_period_us': '100000' });
    assert.equal(cgroupCpuQuota(none), undefined);
  });
});
