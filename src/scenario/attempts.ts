import { retryCount } from './schema-request.js';
import type { PatternSpec, Scenario } from './schema.js';

/**
 * The most requests a pattern's plan can send (probes aside), from its spec alone: the loader
 * bounds a scenario's plan with it before the plan is built. It must never be lower than what
 * the planner (`plan/patterns/*`) builds; a unit test compares the two.
 */
export function plannedAttempts(pattern: PatternSpec, scenario: Scenario): number {
  switch (pattern.kind) {
    case 'sequential-duplicates':
    case 'missing-key':
    case 'distinct-keys':
      return pattern.count;
    case 'concurrent-burst':
      return pattern.count * pattern.rounds;
    case 'payload-mismatch':
      return 3 + (pattern.concurrent > 0 ? pattern.concurrent + 2 : 0);
    case 'lost-response':
    case 'lost-request':
      return 1 + retryCount(pattern.retries);
    case 'slow-timeout':
      return 1 + pattern.retryAtMs.length;
    case 'delayed-retries':
      return 1 + pattern.delaysMs.length;
    case 'out-of-order':
      return pattern.operations.length + 1;
    case 'steps':
      return pattern.steps.length;
    case 'cross-tenant':
      return 2 * (pattern.tenants ?? Object.keys(scenario.target.tenants).slice(0, 2)).length + 1;
    case 'dependency-fault':
      return pattern.faulted + retryCount(pattern.retries);
    case 'crash':
      // A burst of `count` for the in-flight duplicate and between-bursts points, then retries.
      return 2 * pattern.count + retryCount(pattern.retries);
    case 'cold-start-replay':
      return 2 * pattern.count;
  }
}
