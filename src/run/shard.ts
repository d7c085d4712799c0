import { IdemproofError } from '../errors.js';
import type { PatternPlan } from '../plan/schedule.js';

/**
 * `--shard i/n`: one of n machines runs every n-th pattern of the plan, the way test runners
 * split a suite. Patterns are dealt round-robin over all scenarios (a scenario's first pattern
 * goes to the shard after the previous scenario's first), so shards get similar work; keys
 * never cross shards, since each pattern has its own. `idemproof report merge` joins the
 * shards' folders into one report.
 *
 * Must not: depend on anything but the scenario order, the pattern order and n, so every
 * shard of one seed agrees on who runs what.
 */
export interface Shard {
  /** 1-based. */
  readonly index: number;
  readonly total: number;
}

export function parseShard(value: string): Shard {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(value);
  const index = Number(match?.[1]);
  const total = Number(match?.[2]);
  if (match === null || !(total >= 1) || total > 1000 || !(index >= 1) || index > total) {
    throw new IdemproofError(
      'IDEMPROOF_ERR_USAGE',
      `--shard '${value}' is not i/n with 1 ≤ i ≤ n ≤ 1000 (e.g. --shard 2/3)`,
    );
  }
  return { index, total };
}

/** The plans of scenario `scenarioIndex` that `shard` runs (all of them without a shard). */
export function shardPlans<P extends PatternPlan>(
  plans: readonly P[],
  scenarioIndex: number,
  shard: Shard | null | undefined,
): P[] {
  if (shard === null || shard === undefined || shard.total === 1) return [...plans];
  return plans.filter(
    (_plan, patternIndex) => (scenarioIndex + patternIndex) % shard.total === shard.index - 1,
  );
}
