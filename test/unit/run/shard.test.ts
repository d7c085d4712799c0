import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isIdemproofError } from '../../../src/errors.js';
import { parseShard, shardPlans } from '../../../src/run/shard.js';
import type { PatternPlan } from '../../../src/plan/schedule.js';

const plans = (count: number): PatternPlan[] =>
  Array.from({ length: count }, (_unused, index) => ({ id: `p#${index}` }) as PatternPlan);

describe('--shard i/n', () => {
  it('deals every pattern to exactly one shard, evenly, for any scenario sizes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 1, max: 7 }),
        (sizes, total) => {
          const perShard = Array.from({ length: total }, () => 0);
          for (const [scenario, size] of sizes.entries()) {
            const all = plans(size);
            const dealt = Array.from({ length: total }, (_unused, i) =>
              shardPlans(all, scenario, { index: i + 1, total }),
            );
            expect(
              dealt
                .flat()
                .map((plan) => plan.id)
                .sort(),
            ).toEqual(all.map((plan) => plan.id).sort());
            dealt.forEach((part, i) => (perShard[i] = (perShard[i] ?? 0) + part.length));
          }
          // Round-robin over scenarios: shards differ by at most one pattern per scenario.
          expect(Math.max(...perShard) - Math.min(...perShard)).toBeLessThanOrEqual(sizes.length);
        },
      ),
    );
  });

  it('runs everything without a shard or with 1/1', () => {
    expect(shardPlans(plans(5), 3, undefined)).toHaveLength(5);
    expect(shardPlans(plans(5), 3, { index: 1, total: 1 })).toHaveLength(5);
  });

  it('reads i/n and refuses anything else with a usage error', () => {
    expect(parseShard('2/3')).toEqual({ index: 2, total: 3 });
    expect(parseShard(' 1 / 1 ')).toEqual({ index: 1, total: 1 });
    for (const bad of ['0/3', '4/3', '3', 'a/b', '1/0', '-1/2', '1/1001']) {
      let caught: unknown;
      try {
        parseShard(bad);
      } catch (error) {
        caught = error;
      }
      expect(isIdemproofError(caught) && caught.category, bad).toBe('usage');
    }
  });
});
