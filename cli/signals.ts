import { notice } from './output.js';

/**
 * SIGINT and SIGTERM are handled alike (a background job never gets SIGINT; a terminal's
 * Ctrl-C reaches the whole group). The first asks for a clean stop; a second one exits.
 */
export function onStopSignals(onFirst: () => void): () => void {
  let count = 0;
  const handler = (signal: NodeJS.Signals) => {
    count++;
    if (count === 1) onFirst();
    else {
      notice(`reprise: second ${signal}, exiting without waiting`);
      process.exit(130);
    }
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

/** Resolves on the first SIGINT or SIGTERM. */
export function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const off = onStopSignals(() => {
      off();
      resolve();
    });
  });
}
