/**
 * The kubelet sets six kernel tunables when it starts (vm.overcommit_memory=1,
 * kernel.panic_on_oops=1, kernel.panic=10, ...) and has no setting that leaves them alone
 * without refusing to start. So the first real node records the machine's values in a ledger
 * beside the address slots, and the last one to stop writes them back.
 */
import { closeSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { SLOTS_DIR } from '../slots.js';

/** The kubelet's list (pkg/kubelet/cm/container_manager_linux.go, setupKernelTunables). */
export const KUBELET_TUNABLES = [
  'vm/overcommit_memory',
  'vm/panic_on_oom',
  'kernel/panic',
  'kernel/panic_on_oops',
  'kernel/keys/root_maxkeys',
  'kernel/keys/root_maxbytes',
];
const LEDGER = path.join(SLOTS_DIR, 'kernel-tunables.json');

const read = (name: string) => readFileSync(path.join('/proc/sys', name), 'utf8').trim();

/** Records the machine's values unless a ledger exists (an earlier real node recorded them). */
export function recordKernelTunables(): void {
  let fd: number;
  try {
    fd = openSync(LEDGER, 'wx', 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return;
    throw err;
  }
  try {
    writeSync(fd, JSON.stringify(Object.fromEntries(KUBELET_TUNABLES.map((t) => [t, read(t)]))) + '\n');
  } finally {
    closeSync(fd);
  }
}

/** Writes the recorded values back (the caller checks that no other real node runs). */
export function restoreKernelTunables(): void {
  let recorded: Record<string, string>;
  try {
    recorded = JSON.parse(readFileSync(LEDGER, 'utf8')) as Record<string, string>;
  } catch {
    return;
  }
  for (const [name, value] of Object.entries(recorded))
    if (read(name) !== value) writeFileSync(path.join('/proc/sys', name), value);
}
