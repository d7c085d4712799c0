import { IdemproofError } from '../errors.js';
import type { DependencySet } from '../nemesis/dependencies.js';
import type { DependencyStep, PatternPlan } from '../plan/schedule.js';

/**
 * Carries out a pattern's dependency steps: puts the fault in place in the named dependency,
 * or heals it. The nemesis records the `dependency-fault` and `dependency-heal` events.
 *
 * Must not: leave a fault held when a pattern ends, however it ends (`healDependencies` runs
 * in the executor's finally), or talk to Toxiproxy itself (nemesis/dependencies.ts does).
 */
export async function executeDependencyStep(
  dependencies: DependencySet | undefined,
  plan: PatternPlan,
  step: DependencyStep,
): Promise<void> {
  if (dependencies === undefined) {
    throw new IdemproofError(
      'IDEMPROOF_ERR_SCENARIO',
      `${plan.id}: dependency '${step.dependency}' has no proxy: the scenario declares no dependencies`,
    );
  }
  if (step.kind === 'dependency-fault')
    await dependencies.fault(step.dependency, step.fault, plan.id);
  else await dependencies.heal(step.dependency);
}

/** Heals whatever a pattern left held (a thrown attempt, a stopped run). */
export async function healDependencies(dependencies: DependencySet | undefined): Promise<void> {
  await dependencies?.healAll();
}
