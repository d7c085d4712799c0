import type { ScenarioInput } from './schema.js';

/**
 * For scenario files written in TypeScript: `export default defineScenario({...})`. It only
 * gives the object its type (editor completion, compile-time checks); validation happens when
 * idemproof loads the file, exactly as for YAML.
 */
export function defineScenario(scenario: ScenarioInput): ScenarioInput {
  return scenario;
}
