/**
 * Follows a running workflow from the terminal: polls its `progress` query for a live line,
 * turns the first Ctrl-C / SIGTERM into a signal (stop a capture, cancel a replay), and
 * returns the result or a CliError with the innermost cause.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { WorkflowHandle } from '@temporalio/client';
import { CliError } from './errors.js';
import { notice } from './output.js';
import { LiveLine } from './progress.js';
import { onStopSignals } from './signals.js';

export interface WatchOptions<P> {
  /** What the workflow is, for messages: `capture`, `replay`. */
  what: string;
  /** Where to look it up (`workflow ID, UI page`), added to a failure's line. */
  link: string;
  /** The worker's log file, when it is not this command's (reprise up). */
  workerLog?: string;
  /** The signal sent on the first Ctrl-C, and what the user is told. */
  stopSignal: string;
  stopNotice: string;
  /** Time-based bar for a known total (ms); a status line otherwise. */
  totalMs?: number;
  render(progress: P): string;
  /** Called on every progress reading (e.g. to announce ports once). */
  onProgress?(progress: P): void;
}

/** The innermost cause's message: a workflow failure wraps the activity's or validation's. */
export function failureMessage(err: unknown): string {
  let e = err as { message?: string; cause?: unknown } | undefined;
  while (e?.cause && (e.cause as { message?: string }).message) e = e.cause as typeof e;
  return e?.message ?? String(err);
}

/** How often the progress query is sent, and how long one may take (its retries included). */
export const PROGRESS_EVERY_MS = 500;
const PROGRESS_DEADLINE_MS = 5_000;

export async function watchWorkflow<R, P>(handle: WorkflowHandle, opts: WatchOptions<P>): Promise<R> {
  const live = new LiveLine(opts.totalMs);
  // Every call still on its way when the result arrives is awaited before returning: the client
  // retries a failed call on a timer, and a retry that fires after the caller closed the
  // connection throws outside any await ("Channel has been shut down") and ends the command.
  let signalling: Promise<void> | undefined;
  const stopWatching = onStopSignals(() => {
    notice(`${opts.stopNotice} (Ctrl-C again to quit without waiting)`);
    signalling = handle
      .signal(opts.stopSignal)
      .catch((err: Error) => notice(`could not signal ${opts.stopSignal}: ${err.message}`));
  });
  const poller = pollProgress(handle, (p: P) => {
    opts.onProgress?.(p);
    live.update(opts.render(p));
  });
  try {
    return (await handle.result()) as R;
  } catch (err) {
    throw new CliError(`${opts.what} failed: ${failureMessage(err)} (${opts.link})`, 1, opts.workerLog);
  } finally {
    stopWatching();
    await poller.stop();
    await signalling;
    live.done();
  }
}

/**
 * Queries `progress` one at a time (a slow server never piles them up), each bounded by a
 * deadline; `stop` resolves once no query is in flight.
 */
function pollProgress<P>(handle: WorkflowHandle, onProgress: (p: P) => void): { stop(): Promise<void> } {
  const stopped = new AbortController();
  const loop = (async () => {
    for (;;) {
      await delay(PROGRESS_EVERY_MS, undefined, { signal: stopped.signal }).catch(() => undefined);
      if (stopped.signal.aborted) return;
      const p = await handle.client.connection
        .withDeadline(Date.now() + PROGRESS_DEADLINE_MS, () => handle.query<P>('progress'))
        .catch(() => undefined);
      if (p !== undefined && !stopped.signal.aborted) onProgress(p);
    }
  })();
  return {
    stop: () => {
      stopped.abort();
      return loop;
    },
  };
}
