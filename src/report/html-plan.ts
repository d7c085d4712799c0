import type { CheckResult } from '../check/types.js';
import type { RunResult, ScenarioResult } from '../run/result.js';
import { anchorId } from './html-escape.js';
import type { ViolationView } from './html-violation.js';
import { checkStatus } from './verdict.js';

/**
 * Decides, before anything is drawn, which anomaly gets which generated anchor, which are shown
 * in full (attempts, diffs, timeline) and which as a table row, and where each key with an
 * anomaly is told. The page, the checks table and the scenario sections all read this plan.
 */

/**
 * Anomalies of one check shown with attempts, diffs and timeline; the others are rows of one
 * table (key, kind, message, expected, actual, events), so an API that fails every key still
 * gives a page a browser opens quickly. Their curl commands stay in results.json.
 */
export const DETAILED_VIOLATIONS_PER_CHECK = 50;

export interface Planned {
  /** The anomalies of each violated check, in run order. */
  readonly violations: ViolationView[][];
  readonly undecided: {
    id: string;
    scenario: ScenarioResult;
    check: CheckResult;
    views: ViolationView[];
  }[];
  /** Per scenario: each key with an anomaly and its first detailed (else first) anchor. */
  readonly anomalyKeys: Map<string, string>[];
  /** First violation anchor of each violated check, by "scenario-check" position. */
  readonly firstAnchor: Map<string, string>;
  compact: number;
}

export function planViolations(result: RunResult): Planned {
  const planned: Planned = {
    violations: [],
    undecided: [],
    anomalyKeys: [],
    firstAnchor: new Map(),
    compact: 0,
  };
  result.scenarios.forEach((scenario, si) => {
    const keys = new Map<string, string>();
    const detailedKeys = new Set<string>();
    planned.anomalyKeys.push(keys);
    scenario.checks.forEach((check, ci) => {
      const status = checkStatus(check);
      if (status !== 'fail' && status !== 'unknown') return;
      const views = check.anomalies.map((anomaly, ai): ViolationView => {
        const detailed = ai < DETAILED_VIOLATIONS_PER_CHECK;
        const id = anchorId(status === 'fail' ? 'v' : 'uv', si, ci, ai);
        const key = anomaly.key;
        if (key !== null && (!keys.has(key) || (detailed && !detailedKeys.has(key)))) {
          keys.set(key, id);
        }
        if (key !== null && detailed) detailedKeys.add(key);
        if (!detailed) planned.compact++;
        return { id, scenario, checker: check.checker, anomaly, status, detailed };
      });
      if (status === 'fail') {
        planned.violations.push(views);
        const first = views[0];
        if (first !== undefined) planned.firstAnchor.set(`${si}-${ci}`, first.id);
      } else {
        planned.undecided.push({ id: anchorId('u', si, ci), scenario, check, views });
      }
    });
  });
  return planned;
}
