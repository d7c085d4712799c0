import type { HistoryEvent } from '../history/events.js';
import type { PatternPlan } from '../plan/schedule.js';
import type { AttemptCounts, LatencySummary, PatternSummary } from './result.js';

/**
 * Attempt counts by outcome. An attempt sent but never completed (the run was killed while it
 * was in flight) counts as outcome unknown: the target may or may not have processed it.
 */
export function countAttempts(history: readonly HistoryEvent[]): AttemptCounts {
  let invoked = 0;
  let ok = 0;
  let fail = 0;
  let info = 0;
  for (const event of history) {
    if (event.type === 'invoke') invoked += 1;
    else if (event.type === 'ok') ok += 1;
    else if (event.type === 'fail') fail += 1;
    else if (event.type === 'info') info += 1;
  }
  const unfinished = Math.max(0, invoked - ok - fail - info);
  return { total: ok + fail + info + unfinished, ok, fail, info: info + unfinished };
}

/** Percentiles of the durations of attempts that got a response. */
export function summariseLatency(history: readonly HistoryEvent[]): LatencySummary {
  const durations = history
    .filter((event) => event.type === 'ok')
    .map((event) => event.durationMs)
    .sort((a, b) => a - b);
  const at = (quantile: number): number =>
    durations.length === 0
      ? 0
      : (durations[Math.min(durations.length - 1, Math.ceil(quantile * durations.length) - 1)] ??
        0);
  return {
    count: durations.length,
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    max: durations[durations.length - 1] ?? 0,
  };
}

export function summarisePatterns(
  plans: readonly PatternPlan[],
  history: readonly HistoryEvent[],
): PatternSummary[] {
  // One pass over the history: a run may have thousands of patterns.
  const attempts = new Map<string, number>();
  for (const event of history) {
    if (event.type === 'invoke')
      attempts.set(event.pattern, (attempts.get(event.pattern) ?? 0) + 1);
  }
  return plans.map((plan) => ({
    id: plan.id,
    kind: plan.kind,
    attempts: attempts.get(plan.id) ?? 0,
    keys: new Set(plan.operations.map((operation) => operation.key)).size,
    notes: plan.notes,
  }));
}
