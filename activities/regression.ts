/** The regression workflow's one activity: compare a finished replay with the key's baseline. */
import type { RegressionCheck, RegressionInput, ReplayVerdict } from '../src/config/replay.js';
import { readReport } from '../src/report/write.js';
import { replayDir } from '../src/base/paths.js';
import { compareWithBaseline } from '../src/regression/compare.js';
import { readBaseline, writeBaseline } from '../src/regression/baseline.js';

export interface BaselineComparison {
  /** Null when this run became the baseline, or there is none yet. */
  baselineReplayId: string | null;
  becameBaseline: boolean;
  checks: RegressionCheck[];
}

export function createRegressionActivities(home: string) {
  return {
    async compareWithBaseline(req: {
      key: string;
      replayId: string;
      verdict: ReplayVerdict;
      pinnedBaseline?: string;
      thresholds: RegressionInput['thresholds'];
    }): Promise<BaselineComparison> {
      if (req.pinnedBaseline) {
        await writeBaseline(home, req.key, {
          replayId: req.pinnedBaseline,
          setAt: new Date().toISOString(),
          pinned: true,
        });
      }
      const baseline = await readBaseline(home, req.key);
      if (!baseline || baseline.replayId === req.replayId) {
        // The first passing run becomes the baseline; a failing one is not a fair reference.
        if (req.verdict === 'Passed') {
          await writeBaseline(home, req.key, {
            replayId: req.replayId,
            setAt: new Date().toISOString(),
            pinned: false,
          });
          return { baselineReplayId: req.replayId, becameBaseline: true, checks: [] };
        }
        return { baselineReplayId: null, becameBaseline: false, checks: [] };
      }
      const [current, reference] = await Promise.all([
        readReport(replayDir(home, req.replayId)),
        readReport(replayDir(home, baseline.replayId)),
      ]);
      return {
        baselineReplayId: baseline.replayId,
        becameBaseline: false,
        checks: compareWithBaseline(current, reference, req.thresholds),
      };
    },
  };
}

export type RegressionActivities = ReturnType<typeof createRegressionActivities>;
