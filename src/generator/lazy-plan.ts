/**
 * One pass held in memory (a small recording), planned as the cursor first reaches each request
 * instead of all of it before the first send. Start-up then only reads the recording: planning
 * 10,000 requests up front was a third of the CPU of a 4 s run and delayed the first request.
 * Each request is planned once and kept for the later passes; its recorded form is let go.
 */
import type { PlannedRequest, RecordedRequest } from './request-plan.js';

export class LazyPlan {
  private readonly recorded: (RecordedRequest | undefined)[];
  private readonly planned: (PlannedRequest | undefined)[];

  constructor(
    held: RecordedRequest[],
    private readonly plan: (r: RecordedRequest) => PlannedRequest,
  ) {
    this.recorded = held;
    this.planned = new Array<PlannedRequest | undefined>(held.length).fill(undefined);
  }

  get length(): number {
    return this.recorded.length;
  }

  /** Request `i` of the pass, in time order; undefined past the end. */
  at(i: number): PlannedRequest | undefined {
    const planned = this.planned[i];
    if (planned !== undefined || i < 0 || i >= this.recorded.length) return planned;
    const request = this.plan(this.recorded[i]!);
    this.planned[i] = request;
    this.recorded[i] = undefined;
    return request;
  }
}
