import type { PatternPlan } from './schedule.js';

/**
 * `--repeat N`: the plan of a scenario made N times over, each repetition with its own run id
 * part (fresh keys, markers and resources) from the same seed. Repetition 1 keeps the plan's
 * pattern ids; repetition r > 1 suffixes them with "@r", so every attempt's op stays unique and
 * a report can count a defect per pattern run. Pure.
 *
 * Must not: change anything but the run id part and the pattern ids.
 */

/** The most repetitions a run may ask for: each one sends the whole plan again. */
export const MAX_REPEAT = 100;

/** The run id part of repetition `repetition` (1-based) of run `run`. */
export function repetitionRun(run: string, repetition: number): string {
  return repetition === 1 ? run : `${run}r${repetition}`;
}

/** "concurrent-burst#1@3" → "concurrent-burst#1"; an id without repetition is itself. */
export function basePatternId(id: string): string {
  return id.replace(/@\d+$/, '');
}

/** The plans of every repetition, in order: repetition 1's, then 2's… */
export function repeatPlans(
  repeat: number,
  run: string,
  plan: (run: string) => PatternPlan[],
): PatternPlan[] {
  const plans: PatternPlan[] = [];
  for (let repetition = 1; repetition <= Math.max(1, repeat); repetition++) {
    for (const one of plan(repetitionRun(run, repetition)))
      plans.push(repetition === 1 ? one : { ...one, id: `${one.id}@${repetition}` });
  }
  return plans;
}
