/**
 * regressionWorkflow: what a Temporal Schedule starts. Runs a replay as a child workflow,
 * compares its report with the baseline (the first passing run, or a pinned one), and
 * records the verdict as a search attribute so failing regressions are listed in the UI.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import {
  ApplicationFailure,
  executeChild,
  proxyActivities,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { RegressionActivities } from '../activities/regression.js';
import { describeZodIssues } from '../src/base/issues.js';
import { toSafeId } from '../src/base/ids.js';
import {
  RegressionInput,
  type RegressionResult,
  type RegressionVerdict,
  type ReplayResult,
} from '../src/config/replay.js';
import { RepriseKind, RepriseSnapshotId, RepriseVerdict } from '../src/temporal/names.js';
import { replayWorkflow } from './replay.js';

/** Set by Temporal on runs a Schedule starts. */
const TemporalScheduledById = defineSearchAttributeKey('TemporalScheduledById', SearchAttributeType.KEYWORD);

const { compareWithBaseline } = proxyActivities<RegressionActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { maximumAttempts: 5 },
});

export async function regressionWorkflow(raw: unknown): Promise<RegressionResult> {
  const parsed = RegressionInput.safeParse(raw);
  if (!parsed.success) {
    throw ApplicationFailure.nonRetryable(
      `invalid regression input: ${describeZodIssues(parsed.error.issues)}`,
      'InvalidInput',
    );
  }
  const input = parsed.data;
  const { workflowId, typedSearchAttributes } = workflowInfo();
  // A schedule names its runs `<scheduleId>-<time>`; the schedule id is the natural key.
  const scheduledBy = typedSearchAttributes.get(TemporalScheduledById);
  const key = input.key ?? scheduledBy ?? input.replay.snapshotId;
  upsertSearchAttributes([
    { key: RepriseKind, value: 'regression' },
    { key: RepriseSnapshotId, value: input.replay.snapshotId },
  ]);

  const replayId = toSafeId(`${workflowId}-replay`);
  const replay: ReplayResult = await executeChild(replayWorkflow, {
    workflowId: replayId,
    args: [{ ...input.replay, replayId }],
  });
  let verdict: RegressionVerdict = replay.verdict;
  let baselineReplayId: string | undefined;
  let checks: RegressionResult['checks'] = [];
  let baseline: RegressionResult['baseline'] = 'none';
  if (replay.verdict === 'Passed' || replay.verdict === 'Missed Goals') {
    const comparison = await compareWithBaseline({
      key,
      replayId,
      verdict: replay.verdict,
      pinnedBaseline: input.baselineReplayId,
      thresholds: input.thresholds,
    });
    baselineReplayId = comparison.baselineReplayId ?? undefined;
    checks = comparison.checks;
    baseline = comparison.becameBaseline ? 'set' : comparison.baselineReplayId ? 'compared' : 'none';
    if (replay.verdict === 'Passed' && checks.some((c) => !c.passed)) verdict = 'Regressed';
  }
  upsertSearchAttributes([{ key: RepriseVerdict, value: verdict }]);
  return { verdict, replay, baselineReplayId, baseline, checks };
}
