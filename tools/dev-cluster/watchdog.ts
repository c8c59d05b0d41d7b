/**
 * Cleans up a dev cluster whose owner died without stopping it (SIGKILL, a test runner's
 * timeout, Ctrl-C): started detached with its stdin a pipe from the owner, it waits for that
 * pipe to close (the kernel closes it however the owner ends: no polling), then stops what
 * state.json names. A clean stop() kills this process first.
 *
 * Usage: node watchdog.js CLUSTER_DIR
 */
import { teardown } from './teardown.js';

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: watchdog.js CLUSTER_DIR\n');
  process.exit(2);
}

let done = false;
const cleanUp = () => {
  if (done) return;
  done = true;
  teardown(dir, { skipWatchdog: true }).then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`dev-cluster watchdog: ${(err as Error).message}\n`);
      process.exit(1);
    },
  );
};
process.stdin.on('end', cleanUp);
process.stdin.on('close', cleanUp);
process.stdin.on('error', cleanUp);
process.stdin.resume();
