import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runChecks } from '../../../src/check/compose.js';
import { effectsPerKey } from '../../../src/check/effects-per-key.js';
import { replayIdenticalResponses } from '../../../src/check/replay-identical.js';
import { buildHistory, goodHistory } from './history-arbitrary.js';

describe('checker properties', () => {
  it('(a) a history of identical replays and one effect per successful key holds for every checker', () => {
    fc.assert(
      fc.property(goodHistory, (good) => {
        const results = runChecks(buildHistory(good), { profile: good.profile });
        for (const result of results) {
          expect(result.anomalies, result.checker).toEqual([]);
          expect(result.valid, `${result.checker}: ${result.notes.join(' ')}`).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('(b) raising any successful key to two or more effects always fails effectsPerKey', () => {
    const broken = goodHistory
      .filter((good) => good.keys.some((plan) => plan.outcomes.includes('ok')))
      .chain((good) => {
        const successful = good.keys.flatMap((plan, index) =>
          plan.outcomes.includes('ok') ? [index] : [],
        );
        return fc.record({
          good: fc.constant(good),
          key: fc.constantFrom(...successful),
          count: fc.integer({ min: 2, max: 9 }),
        });
      });
    fc.assert(
      fc.property(broken, ({ good, key, count }) => {
        const history = buildHistory(good, { effects: new Map([[key, count]]) });
        const result = effectsPerKey(history, { profile: good.profile });
        expect(result.valid).toBe(false);
        expect(result.anomalies.map((a) => [a.kind, a.key])).toEqual([
          ['duplicate-effect', good.keys[key]?.key],
        ]);
      }),
      { numRuns: 300 },
    );
  });

  it('(c) changing any character of any replay after the first response always fails replayIdenticalResponses', () => {
    const withReplays = goodHistory
      .filter((good) =>
        good.keys.some((plan) => plan.outcomes.filter((o) => o === 'ok').length >= 2),
      )
      .chain((good) => {
        const keys = good.keys.flatMap((plan, index) =>
          plan.outcomes.filter((o) => o === 'ok').length >= 2 ? [index] : [],
        );
        return fc.constantFrom(...keys).chain((key) => {
          const oks = good.keys[key]?.outcomes.filter((o) => o === 'ok').length ?? 2;
          return fc.record({
            good: fc.constant(good),
            key: fc.constant(key),
            response: fc.integer({ min: 1, max: oks - 1 }),
            at: fc.nat(),
          });
        });
      });
    fc.assert(
      fc.property(withReplays, ({ good, key, response, at }) => {
        const history = buildHistory(good, { mutate: { key, response, at } });
        const result = replayIdenticalResponses(history, { profile: good.profile });
        expect(result.valid).toBe(false);
        expect(result.anomalies.map((a) => a.kind)).toEqual(['replay-body-differs']);
      }),
      { numRuns: 300 },
    );
  });
});
