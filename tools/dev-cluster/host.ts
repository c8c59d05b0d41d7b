/**
 * Host commands the dev cluster runs (iptables, ip, mount): synchronous, so teardown can run
 * them from an exit hook too; an error names the command and what it printed.
 */
import { spawnSync } from 'node:child_process';

const TIMEOUT_MS = 30_000;

export interface HostResult {
  ok: boolean;
  stdout: string;
  stderr: string;
}

/** Runs `command`; throws naming it when it fails, unless `allowFail`. */
export function host(
  command: string,
  args: string[],
  opts: { allowFail?: boolean; input?: string } = {},
): HostResult {
  const run = spawnSync(command, args, {
    encoding: 'utf8',
    timeout: TIMEOUT_MS,
    input: opts.input,
    stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  const result = { ok: run.status === 0, stdout: run.stdout ?? '', stderr: run.stderr ?? '' };
  if (!result.ok && !opts.allowFail) {
    const why = run.error ? run.error.message : `exit ${run.status ?? run.signal}`;
    throw new Error(
      `\`${command} ${args.join(' ')}\` failed (${why}): ${result.stderr.trim() || result.stdout.trim()}`,
    );
  }
  return result;
}

/** iptables, waiting for the xtables lock (kube-proxy and other clusters hold it briefly). */
export const iptables = (args: string[], opts: { allowFail?: boolean } = {}) =>
  host('iptables', ['-w', '10', ...args], opts);
