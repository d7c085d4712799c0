import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { outcomeOf } from '../../../src/check/attempt-outcome.js';
import { attemptLiveness } from '../../../src/check/key-liveness.js';
import { attemptsOf, type Attempt } from '../../../src/history/events.js';
import { HistoryBuilder } from './history-builder.js';

type Ending =
  { kind: 'ok'; status: number } | { kind: 'info' } | { kind: 'fail' } | { kind: 'none' };

/** One attempt ending as `ending`, recorded by the same builder the checker tests use. */
function attemptEnding(ending: Ending): Attempt {
  const h = new HistoryBuilder();
  const invoke = h.invoke({ label: 'original' });
  if (ending.kind === 'ok') h.ok(invoke, { status: ending.status, body: {} });
  if (ending.kind === 'info') h.info(invoke);
  if (ending.kind === 'fail') h.fail(invoke);
  const [attempt] = attemptsOf(h.history());
  if (attempt === undefined) throw new Error('no attempt recorded');
  return attempt;
}

const endings: fc.Arbitrary<Ending> = fc.oneof(
  fc.record({ kind: fc.constant('ok' as const), status: fc.integer({ min: 100, max: 599 }) }),
  fc.constant({ kind: 'info' as const }),
  fc.constant({ kind: 'fail' as const }),
  fc.constant({ kind: 'none' as const }),
);

describe('attemptLiveness: the one rule of the executor and the keyNotStuck checker', () => {
  it('classifies each way an attempt ends', () => {
    const inFlight = [409];
    const of = (ending: Ending) => attemptLiveness(attemptEnding(ending).completion, inFlight);
    expect(of({ kind: 'ok', status: 409 })).toEqual({
      inProgress: true,
      mayHold: false,
      pending: true,
    });
    expect(of({ kind: 'ok', status: 500 })).toEqual({
      inProgress: false,
      mayHold: true,
      pending: false,
    });
    expect(of({ kind: 'ok', status: 201 })).toEqual({
      inProgress: false,
      mayHold: true,
      pending: false,
    });
    expect(of({ kind: 'info' })).toEqual({ inProgress: false, mayHold: true, pending: true });
    expect(of({ kind: 'none' })).toEqual({ inProgress: false, mayHold: true, pending: true });
    expect(of({ kind: 'fail' })).toEqual({ inProgress: false, mayHold: false, pending: false });
  });

  it('the in-flight statuses are the profile’s, not a fixed 409', () => {
    const attempt = attemptEnding({ kind: 'ok', status: 409 });
    expect(attemptLiveness(attempt.completion, [425]).inProgress).toBe(false);
    expect(attemptLiveness(attempt.completion, [425]).mayHold).toBe(true);
  });

  it('agrees with the outcome classes every checker reasons with', () => {
    fc.assert(
      fc.property(
        endings,
        fc.array(fc.integer({ min: 100, max: 599 }), { minLength: 1, maxLength: 3 }),
        (ending, inFlight) => {
          const attempt = attemptEnding(ending);
          const outcome = outcomeOf(attempt);
          const state = attemptLiveness(attempt.completion, inFlight);
          const refused = 'status' in outcome && inFlight.includes(outcome.status);
          expect(state.inProgress).toBe(refused);
          expect(state.mayHold).toBe(!refused && outcome.kind !== 'not-processed');
          expect(state.pending).toBe(refused || outcome.kind === 'unknown');
          // An attempt refused as in progress never holds the key.
          expect(state.inProgress && state.mayHold).toBe(false);
        },
      ),
    );
  });
});
