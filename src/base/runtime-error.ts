/**
 * A failure that says its kind and whether a retry may help. Thrown by the runtimes and the
 * clients they use (the forwarder's); an activity turns it into a Temporal ApplicationFailure
 * with that type (activities/in-activity.ts).
 */
export class RuntimeError extends Error {
  constructor(
    message: string,
    readonly type: string,
    readonly retryable = false,
  ) {
    super(message);
    this.name = 'RuntimeError';
  }
}
