/** Why a workflow run by another worker went wrong, read from its history (no report file here). */
import type { WorkflowHandle } from '@temporalio/client';

/** The message of the last failed activity attempt (its cause when it has one), if any. */
export async function lastActivityFailure(handle: WorkflowHandle): Promise<string | undefined> {
  const history = await handle.fetchHistory().catch(() => undefined);
  for (const event of [...(history?.events ?? [])].reverse()) {
    const failure = event.activityTaskFailedEventAttributes?.failure;
    if (failure) return failure.cause?.message || failure.message || undefined;
  }
  return undefined;
}
