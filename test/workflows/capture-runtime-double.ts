/** A test double for CaptureRuntime: records what it is asked to do instead of starting processes. */
import {
  RuntimeError,
  type CaptureCounts,
  type CaptureRef,
  type CaptureRuntime,
} from '../../activities/runtime.js';

export type Step = keyof CaptureRuntime;

/** Records each call; `failing` makes one step throw a non-retryable error. */
export class CaptureRuntimeDouble implements CaptureRuntime {
  calls: Step[] = [];
  failing?: Step;
  private polls = 0;

  private async step(name: Step): Promise<void> {
    this.calls.push(name);
    if (this.failing === name) throw new RuntimeError(`${name} refused`, 'TestRefusal');
  }
  private counts(pairs: number): CaptureCounts {
    return { pairs, inbound: pairs, outbound: 0, bytes: pairs * 100, dropped: 0, filtered: 0 };
  }
  reset() {
    this.calls = [];
    this.failing = undefined;
    this.polls = 0;
  }
  async openRecording() {
    await this.step('openRecording');
    return { forwarderUrl: 'http://127.0.0.1:1' };
  }
  async enableCapture() {
    await this.step('enableCapture');
    return { inPort: 4143, outPort: 4140 };
  }
  async captureProgress(_ref: CaptureRef) {
    await this.step('captureProgress');
    return { ...this.counts(++this.polls), capturing: true };
  }
  async disableCapture() {
    await this.step('disableCapture');
  }
  async sealSnapshot() {
    await this.step('sealSnapshot');
    return this.counts(42);
  }
  async abortRecording() {
    await this.step('abortRecording');
  }
  async teardown() {
    await this.step('teardown');
  }
  /** The calls other than progress polls, which vary with timing. */
  steps(): Step[] {
    return this.calls.filter((c) => c !== 'captureProgress');
  }
}
