import type { Profile } from '../scenario/profile.js';
import type { PatternSpec, Scenario } from '../scenario/schema.js';
import { PatternBuilder, type PlanContext } from './builder.js';
import { concurrentBurst, distinctKeys, sequentialDuplicates } from './patterns/duplicates.js';
import { delayedRetries, lostRequest, lostResponse, slowTimeout } from './patterns/faults.js';
import { payloadMismatch } from './patterns/mismatch.js';
import { outOfOrder } from './patterns/out-of-order.js';
import { crossTenant, missingKey } from './patterns/tenancy.js';
import { createRandom, hashSeed } from './random.js';
import type { PatternPlan } from './schedule.js';

/**
 * Turns a scenario, a seed and a run id into the plan of every pattern. Pure: no I/O, no
 * clock. The seed decides lanes, generated payload values and the like; the run id only makes
 * keys and markers fresh, so a replayed seed runs the same story with new keys.
 */
export function planScenario(
  scenario: Scenario,
  profile: Profile,
  options: { readonly seed: number; readonly run: string },
): PatternPlan[] {
  let counter = 0;
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
    return builder.build();
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
  }
}
