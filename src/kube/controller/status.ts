/**
 * The status a TrafficReplay shows for a phase of its replay (and, when finished, its result):
 * phase, progress, verdict, times and the `Ready`/`MocksReady` conditions. Pure, unit-tested.
 */
import type { ReplayPhase, ReplayProgress, ReplayResult, ReplayVerdict } from '../../config/replay.js';
import {
  replayIdOf,
  type Condition,
  type TrafficReplay,
  type TrafficReplayStatus,
} from '../api/traffic-replay.js';

export const VERDICTS: readonly string[] = ['Passed', 'Missed Goals', 'Error', 'Canceled'];

/** `Ready`/`MocksReady` with lastTransitionTime kept while the status stays the same. */
export function setCondition(
  list: Condition[] | undefined,
  next: Omit<Condition, 'lastTransitionTime'>,
  now: string,
): Condition[] {
  const out = (list ?? []).filter((c) => c.type !== next.type);
  const prev = list?.find((c) => c.type === next.type);
  const lastTransitionTime = prev && prev.status === next.status ? prev.lastTransitionTime : now;
  return [...out, { ...next, lastTransitionTime }].sort((a, b) => a.type.localeCompare(b.type));
}

/** The status a phase (and, when finished, a result) implies; pure, unit-tested. */
export function statusFor(
  cr: TrafficReplay,
  step: {
    phase: ReplayPhase;
    progress?: Omit<ReplayProgress, 'phase'>;
    result?: Pick<ReplayResult, 'verdict' | 'reportPath' | 'replayId'>;
    message?: string;
    finishedAt?: string;
  },
  now: string,
): TrafficReplayStatus {
  const prev = cr.status ?? {};
  const generation = cr.metadata.generation;
  const mode = cr.spec.mode ?? 'full-replay';
  const terminal = VERDICTS.includes(step.phase);
  const verdict = terminal ? (step.phase as ReplayVerdict) : undefined;
  const status: TrafficReplayStatus = {
    ...prev,
    phase: step.phase,
    active: !terminal,
    observedGeneration: generation,
    reportId: step.result?.replayId ?? prev.reportId ?? replayIdOf(cr),
  };
  if (step.progress)
    status.progress = {
      sent: step.progress.sent,
      done: step.progress.done,
      errors: step.progress.errors,
      ...(step.progress.total !== undefined ? { total: step.progress.total } : {}),
    };
  // Set-up is over once the generator runs: the phase moved on from Initializing.
  if ((step.phase === 'Testing' || step.phase === 'Analyzing') && !prev.initializedTime)
    status.initializedTime = now;
  if (verdict) {
    status.verdict = verdict;
    status.finishedTime = step.finishedAt ?? prev.finishedTime ?? now;
    if (step.result?.reportPath) status.reportPath = step.result.reportPath;
  }
  if (step.message !== undefined) status.message = step.message;
  else if (!terminal) delete status.message;
  const ready: Omit<Condition, 'lastTransitionTime'> = verdict
    ? verdict === 'Passed'
      ? { type: 'Ready', status: 'True', reason: 'TestSucceeded', message: 'the replay passed' }
      : {
          type: 'Ready',
          status: 'False',
          reason: 'TestFailed',
          message: step.message ? `${verdict}: ${step.message}` : verdict,
        }
    : { type: 'Ready', status: 'False', reason: 'InProgress', message: `phase ${step.phase}` };
  let mocks: Omit<Condition, 'lastTransitionTime'>;
  const prevMocks = prev.conditions?.find((c) => c.type === 'MocksReady');
  if (mode === 'generator-only')
    mocks = {
      type: 'MocksReady',
      status: 'False',
      reason: 'MocksDisabled',
      message: 'generator-only: no responder',
    };
  else if (step.phase === 'Initializing')
    mocks = {
      type: 'MocksReady',
      status: 'Unknown',
      reason: 'Starting',
      message: 'the responder is starting',
    };
  else if (!terminal || prevMocks?.status === 'True')
    mocks = {
      type: 'MocksReady',
      status: terminal ? 'False' : 'True',
      reason: terminal ? 'TornDown' : 'ResponderReady',
      message: terminal
        ? 'the responder was torn down with the replay'
        : 'the responder answers from the snapshot',
    };
  else
    mocks = {
      type: 'MocksReady',
      status: 'False',
      reason: 'NotStarted',
      message: 'the replay ended before the responder was up',
    };
  const withGen = (c: Omit<Condition, 'lastTransitionTime'>) =>
    generation !== undefined ? { ...c, observedGeneration: generation } : c;
  status.conditions = setCondition(setCondition(prev.conditions, withGen(ready), now), withGen(mocks), now);
  return status;
}
