/**
 * Runs a runtime method inside an activity: hands it the heartbeat and the cancellation
 * signal, and turns a RuntimeError into an ApplicationFailure that says whether a retry helps.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import { RuntimeError, type RuntimeContext } from './runtime.js';

export async function inActivity<T>(work: (ctx: RuntimeContext) => Promise<T>): Promise<T> {
  const current = Context.current();
  const ctx: RuntimeContext = { heartbeat: () => current.heartbeat(), signal: current.cancellationSignal };
  try {
    return await work(ctx);
  } catch (err) {
    // Cancelled: report the cancellation itself, whatever the runtime threw on its way out.
    if (ctx.signal.aborted) throw ctx.signal.reason ?? err;
    if (err instanceof RuntimeError) {
      throw ApplicationFailure.create({ message: err.message, type: err.type, nonRetryable: !err.retryable });
    }
    throw err;
  }
}
