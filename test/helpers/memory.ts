/** Memory probes for the bounded-memory tests. */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** `global.gc` without starting node with --expose-gc (npm test runs plain `node --test`). */
export function exposeGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** JavaScript heap plus Buffers: what streaming a snapshot through this process holds. */
export const heldBytes = (): number => {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};
