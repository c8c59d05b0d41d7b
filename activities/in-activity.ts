/**
 * Runs a runtime method inside an activity: hands it the heartbeat and the cancellation
 * signal, and turns a RuntimeError into an ApplicationFailure that says whether a retry helps.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import { CaptureRuntimeError, type RuntimeContext } from './runtime.js';

export async function inActivity<T>(work: (ctx: RuntimeContext) => Promise<T>): Promise<T> {
  const current = Context.current();
  try {
    return await work({ heartbeat: () => current.heartbeat(), signal: current.cancellationSignal });
  } catch (err) {
    if (err instanceof CaptureRuntimeError) {
      throw ApplicationFailure.create({ message: err.message, type: err.type, nonRetryable: !err.retryable });
    }
    throw err;
  }
}
