import type { Profile } from '../scenario/profile.js';
import type { PatternSpec, Scenario } from '../scenario/schema.js';
import { PatternBuilder, type PlanContext } from './builder.js';
import { withFlowSteps } from './flow-steps.js';
import { dependencyFault } from './patterns/dependency-fault.js';
import { coldStartReplay, crash } from './patterns/crash.js';
import { concurrentBurst, distinctKeys, sequentialDuplicates } from './patterns/duplicates.js';
import { delayedRetries, lostRequest, lostResponse, slowTimeout } from './patterns/faults.js';
import { payloadMismatch } from './patterns/mismatch.js';
import { outOfOrder } from './patterns/out-of-order.js';
import { scriptedSteps } from './patterns/steps.js';
import { crossTenant, missingKey } from './patterns/tenancy.js';
import { createRandom, hashSeed } from './random.js';
import type { PatternPlan } from './schedule.js';

/**
 * How far apart the {{n}} numbers of two scenarios of one run start: more than the operations
 * one scenario may plan, so scenario 2's first key is n = 1000001 and keys never repeat across
 * the scenarios of a run (a target whose keys are global would otherwise see a reuse).
 */
export const SCENARIO_NUMBER_SPACING = 1_000_000;

/**
 * Turns a scenario, a seed and a run id into the plan of every pattern. Pure: no I/O, no
 * clock. The seed decides lanes, generated payload values and the like; the run id only makes
 * keys and markers fresh, so a replayed seed runs the same story with new keys.
 * `scenarioIndex` (the scenario's place in the run, from 0) keeps the numbers of each scenario
 * apart.
 */
export function planScenario(
  scenario: Scenario,
  profile: Profile,
  options: { readonly seed: number; readonly run: string; readonly scenarioIndex?: number },
): PatternPlan[] {
  let counter = (options.scenarioIndex ?? 0) * SCENARIO_NUMBER_SPACING;
  const counts = new Map<string, number>();
  return scenario.patterns.map((spec, index) => {
    const occurrence = (counts.get(spec.kind) ?? 0) + 1;
    counts.set(spec.kind, occurrence);
    const id = `${spec.kind}#${occurrence}`;
    const context: PlanContext = {
      scenario,
      profile,
      run: options.run,
      random: createRandom(hashSeed(`${options.seed}:${scenario.name}:${index}`)),
      nextNumber: () => (counter += 1),
    };
    const builder = new PatternBuilder(context, spec, id);
    planPattern(builder, spec);
    return withFlowSteps(builder.build(), scenario);
  });
}

function planPattern(builder: PatternBuilder, spec: PatternSpec): void {
  switch (spec.kind) {
    case 'sequential-duplicates':
      return sequentialDuplicates(builder, spec);
    case 'concurrent-burst':
      return concurrentBurst(builder, spec);
    case 'payload-mismatch':
      return payloadMismatch(builder, spec);
    case 'lost-response':
      return lostResponse(builder, spec);
    case 'lost-request':
      return lostRequest(builder, spec);
    case 'slow-timeout':
      return slowTimeout(builder, spec);
    case 'delayed-retries':
      return delayedRetries(builder, spec);
    case 'out-of-order':
      return outOfOrder(builder, spec);
    case 'missing-key':
      return missingKey(builder, spec);
    case 'cross-tenant':
      return crossTenant(builder, spec);
    case 'distinct-keys':
      return distinctKeys(builder, spec);
    case 'steps':
      return scriptedSteps(builder, spec);
    case 'crash':
      return crash(builder, spec);
    case 'cold-start-replay':
      return coldStartReplay(builder, spec);
    case 'dependency-fault':
      return dependencyFault(builder, spec);
  }
}
