import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planScenario } from '../../../src/plan/plan.js';
import { attemptCount } from '../../../src/plan/schedule.js';
import { plannedAttempts } from '../../../src/scenario/attempts.js';
import { crossFieldProblems } from '../../../src/scenario/cross-field.js';
import { SCENARIO_LIMITS } from '../../../src/scenario/limits.js';
import { profileByName } from '../../../src/scenario/profile.js';
import { scenarioSchema, type Scenario } from '../../../src/scenario/schema.js';

const BASE = {
  name: 'bounds',
  target: {
    baseUrl: 'http://127.0.0.1:8080',
    path: '/orders/{{resource}}',
    tenants: { a: { 'X-Tenant': 'a' }, b: { 'X-Tenant': 'b' }, c: { 'X-Tenant': 'c' } },
  },
  payload: { template: { sku: 'A-{{marker}}' } },
  effects: { http: { url: '/orders?key={{key}}', count: '$.count' } },
  state: { http: { url: '/orders/{{resource}}' } },
};

const small = (min: number, max: number): fc.Arbitrary<number> => fc.integer({ min, max });
const delays = fc.array(small(0, 50), { minLength: 1, maxLength: 6 });

/** One pattern entry of each kind, with random counts within the schema's ranges. */
const pattern = fc.oneof(
  fc.record({ kind: fc.constant('sequential-duplicates'), count: small(2, 100) }),
  fc.record({ kind: fc.constant('concurrent-burst'), count: small(2, 64), rounds: small(1, 20) }),
  fc.record({ kind: fc.constant('payload-mismatch'), concurrent: small(0, 32) }),
  fc.record({ kind: fc.constant('lost-response'), retries: small(1, 20) }),
  fc.record({ kind: fc.constant('lost-request'), retries: small(1, 20) }),
  fc.record({ kind: fc.constant('slow-timeout'), retryAtMs: delays }),
  fc.record({ kind: fc.constant('delayed-retries'), delaysMs: delays }),
  fc.record({
    kind: fc.constant('out-of-order'),
    operations: fc.array(fc.record({ s: small(0, 9) }), { minLength: 2, maxLength: 8 }),
  }),
  fc.record({ kind: fc.constant('missing-key'), count: small(1, 10) }),
  fc.record({
    kind: fc.constant('cross-tenant'),
    tenants: fc.option(fc.subarray(['a', 'b', 'c'], { minLength: 2 }), { nil: undefined }),
  }),
  fc.record({ kind: fc.constant('distinct-keys'), count: small(2, 100) }),
);

function scenarioWith(patterns: unknown[]): Scenario {
  return scenarioSchema.parse({ ...BASE, patterns });
}

describe('plannedAttempts: the plan bound, counted from the spec', () => {
  it('is exactly what the planner builds, for every kind of pattern', () => {
    fc.assert(
      fc.property(fc.array(pattern, { minLength: 1, maxLength: 6 }), (patterns) => {
        const scenario = scenarioWith(patterns);
        const plans = planScenario(scenario, profileByName('default'), { seed: 1, run: 'r' });
        scenario.patterns.forEach((spec, index) => {
          expect(plannedAttempts(spec, scenario)).toBe(attemptCount([plans[index]!]));
        });
      }),
      { numRuns: 200 },
    );
  });

  it('refuses a scenario planning more than the limit, at the patterns, without planning it', () => {
    const burst = { kind: 'concurrent-burst', count: 64, rounds: 20 };
    const over = Math.floor(SCENARIO_LIMITS.attempts / 1280) + 1;
    const problems = crossFieldProblems(scenarioWith(Array.from({ length: over }, () => burst)));
    const bound = problems.find((problem) => problem.path.join('.') === 'patterns');
    expect(bound?.message).toContain(
      `the patterns plan ${over * 1280} requests; a scenario may plan at most ${SCENARIO_LIMITS.attempts}`,
    );
    const within = crossFieldProblems(scenarioWith(Array.from({ length: over - 1 }, () => burst)));
    expect(within.filter((problem) => problem.path[0] === 'patterns')).toEqual([]);
  });

  it('caps the number of pattern entries in the schema', () => {
    const entries = Array.from({ length: SCENARIO_LIMITS.patterns + 1 }, () => ({
      kind: 'missing-key',
      count: 1,
    }));
    const parsed = scenarioSchema.safeParse({ ...BASE, patterns: entries });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]).toMatchObject({ path: ['patterns'], code: 'too_big' });
  });
});
