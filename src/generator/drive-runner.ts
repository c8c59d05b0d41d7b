/** Runs a runner (HTTP/1.1 or gRPC) to its end, cancelled with the replay's signal. */
export interface DrivenRunner {
  start(): void;
  cancel(): void;
  readonly done: Promise<void>;
}

/** Starts the runner unless the replay is already cancelled, waits for it, and returns when it began. */
export async function driveRunner(
  runner: DrivenRunner,
  signal: AbortSignal | undefined,
  ticker: NodeJS.Timeout | undefined,
): Promise<Date> {
  const onAbort = () => runner.cancel();
  const startedAt = new Date();
  if (signal?.aborted) runner.cancel();
  else {
    signal?.addEventListener('abort', onAbort, { once: true });
    runner.start();
  }
  try {
    await runner.done;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    if (ticker) clearInterval(ticker);
  }
  return startedAt;
}
