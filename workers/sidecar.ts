/**
 * Sidecar process (docs/contracts.md): parses the flags, starts the capture proxies, prints
 * one ready line on stdout; on SIGTERM/SIGINT drains (in-flight exchanges, then the buffer to
 * the forwarder, bounded by --drain-timeout), prints a stopped line with the final counters
 * and exits 0. Bad flags exit 2 naming the flag.
 */
import { log } from '../src/base/log.js';
import { parseSidecarFlags, UsageError, USAGE } from '../sidecar/flags.js';
import { startSidecar } from '../sidecar/index.js';

async function main(): Promise<void> {
  const { help, ...options } = parseSidecarFlags(process.argv.slice(2));
  if (help) {
    process.stdout.write(USAGE + '\n');
    return;
  }
  const sidecar = await startSidecar(options);
  const { inPort, outPort, adminPort } = sidecar;
  process.stdout.write(
    JSON.stringify({ event: 'ready', inPort, outPort, adminPort, pid: process.pid }) + '\n',
  );

  const stop = async (signal: string) => {
    const stats = await sidecar.close().catch((err: unknown) => {
      log.warn({ err }, 'sidecar did not close cleanly');
      return sidecar.stats();
    });
    process.stdout.write(
      JSON.stringify({ event: 'stopped', signal, pid: process.pid, ...stats }) + '\n',
      () => process.exit(0),
    );
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

main().catch((err: unknown) => {
  const usage = err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
  process.stderr.write(`sidecar: ${(err as Error).message}\n${usage ? USAGE + '\n' : ''}`);
  process.exit(usage ? 2 : 1);
});
