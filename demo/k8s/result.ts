/** What `demo:k8s --result FILE` writes: what it printed, as data (the cluster test reads it). */
import type { CaptureResult } from '../../src/config/capture.js';
import type { ClientSummary } from './app.js';
import type { ReplayStatus } from './replay.js';

export interface DemoResult {
  dir: string;
  broken: boolean;
  snapshotId: string;
  capture: CaptureResult;
  client: ClientSummary;
  /** `kubectl get pods -n reprise-demo` while capturing. */
  capturePods: string;
  /** The listings while the generator ran (demo namespace, then the replay's pods). */
  replayPods: string;
  /** Replay pod components seen running. */
  replayRan: string[];
  replay: string;
  status: ReplayStatus;
  /** report.html and report.json copied here. */
  reportDir?: string;
  /** `ENDPOINT FIELD` of each difference that is not noise. */
  failedFields: string[];
  forwarderUrl: string;
  temporalUi: string;
}
