import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  describeSchedule,
  removalCandidates,
  requestCount,
  scheduleArbitrary,
  scheduleChoices,
  simplificationCandidates,
  type Schedule,
  type ScheduleShape,
  type ScheduledRequest,
} from '../../../src/explore/schedule.js';

const shape = {
  keys: 2,
  tenants: 2,
  lanes: ['clean', 'lost-response'] as const,
  maxSteps: 5,
  maxBurst: 3,
  maxDelayMs: 40,
};
const request = (key: number, variant: 'original' | 'different' = 'original') => ({
  key,
  tenant: null,
  variant,
  lane: 'clean' as const,
});

describe('generated schedules', () => {
  it('stay within the shape', () => {
    fc.assert(
      fc.property(scheduleArbitrary({ ...shape, lanes: [...shape.lanes] }), (schedule) => {
        expect(schedule.steps.length).toBeGreaterThanOrEqual(1);
        expect(schedule.steps.length).toBeLessThanOrEqual(5);
        for (const step of schedule.steps) {
          expect(step.delayMs).toBeLessThanOrEqual(40);
          expect(step.requests.length).toBeGreaterThanOrEqual(1);
          expect(step.requests.length).toBeLessThanOrEqual(3);
          for (const item of step.requests) {
            expect(item.key).toBeLessThan(2);
            expect(item.tenant === null || item.tenant < 2).toBe(true);
          }
        }
      }),
    );
  });

  it('offer every single removal, every burst split, and zeroed delays as first shrinks', () => {
    const schedule: Schedule = {
      steps: [
        { delayMs: 10, requests: [request(0), request(0, 'different')] },
        { delayMs: 0, requests: [request(1)] },
      ],
    };
    const candidates = removalCandidates(schedule);
    expect(candidates).toContainEqual({ steps: [schedule.steps[1]] });
    expect(candidates).toContainEqual({ steps: [schedule.steps[0]] });
    expect(candidates).toContainEqual({
      steps: [{ delayMs: 10, requests: [request(0, 'different')] }, schedule.steps[1]],
    });
    expect(candidates).toContainEqual({
      steps: [
        { delayMs: 10, requests: [request(0)] },
        { delayMs: 0, requests: [request(0, 'different')] },
        schedule.steps[1],
      ],
    });
    expect(candidates).toContainEqual({
      steps: [{ ...schedule.steps[0], delayMs: 0 }, schedule.steps[1]],
    });
    for (const candidate of candidates)
      expect(requestCount(candidate)).toBeLessThanOrEqual(requestCount(schedule));
  });

  const requestsOf = (schedule: Schedule): ScheduledRequest[] =>
    schedule.steps.flatMap((step) => step.requests);
  /** The counterexample fast-check shrinks to for a property, with one seed. */
  const shrunk = (
    fails: (schedule: Schedule) => boolean,
    seed: number,
    wide: ScheduleShape = { ...shape, lanes: ['lost-response', 'clean', 'lost-request'] },
  ): Schedule => {
    const details = fc.check(
      fc.property(scheduleArbitrary(wide), (schedule) => !fails(schedule)),
      { seed },
    );
    expect(details.failed).toBe(true);
    const [schedule] = details.counterexample ?? [];
    if (schedule === undefined) throw new Error('no counterexample');
    return schedule;
  };

  it('shrink every choice to its simplest value: clean lane, first tenant, original payload, key A, no delay', () => {
    for (let seed = 1; seed <= 30; seed += 1) {
      const schedule = shrunk((candidate) => requestCount(candidate) >= 2, seed);
      expect(requestCount(schedule)).toBe(2);
      for (const step of schedule.steps) expect(step.delayMs).toBe(0);
      expect(requestsOf(schedule)).toEqual([
        { key: 0, tenant: 0, variant: 'original', lane: 'clean' },
        { key: 0, tenant: 0, variant: 'original', lane: 'clean' },
      ]);
    }
  });

  it('keep only the differences a failure needs, renamed to the simplest values', () => {
    const distinct = (values: readonly unknown[]): number => new Set(values).size;
    for (let seed = 1; seed <= 30; seed += 1) {
      // Fails when two tenants share a key: the shrunk schedule uses tenants 0 and 1 on key A.
      const crossTenant = shrunk((candidate) => {
        const requests = requestsOf(candidate).filter((item) => item.tenant !== null);
        return requests.some((one) =>
          requests.some((other) => other.key === one.key && other.tenant !== one.tenant),
        );
      }, seed);
      expect(requestsOf(crossTenant).map((item) => item.tenant)).toEqual(
        expect.arrayContaining([0, 1]),
      );
      expect(requestCount(crossTenant)).toBe(2);
      for (const item of requestsOf(crossTenant))
        expect(item).toMatchObject({ key: 0, variant: 'original', lane: 'clean' });

      // Fails when one key sees both payloads: one original, one different, same key and tenant.
      const mismatch = shrunk((candidate) => {
        const requests = requestsOf(candidate);
        return requests.some((one) =>
          requests.some((other) => other.key === one.key && other.variant !== one.variant),
        );
      }, seed);
      const requests = requestsOf(mismatch);
      expect(requests).toHaveLength(2);
      expect(distinct(requests.map((item) => item.variant))).toBe(2);
      for (const item of requests) expect(item).toMatchObject({ key: 0, tenant: 0, lane: 'clean' });
    }
  });

  it('simplify a schedule it did not generate, one dimension at a time, all requests at once', () => {
    const race: Schedule = {
      steps: [
        {
          delayMs: 30,
          requests: [
            { key: 1, tenant: 1, variant: 'original', lane: 'lost-response' },
            { key: 1, tenant: 1, variant: 'different', lane: 'clean' },
          ],
        },
      ],
    };
    const arbitrary = scheduleArbitrary({ ...shape, lanes: [...shape.lanes] });
    expect(arbitrary.canShrinkWithoutContext(race)).toBe(true);
    const candidates = simplificationCandidates(
      race,
      scheduleChoices({ ...shape, lanes: [...shape.lanes] }),
    );
    const withRequests = (change: Partial<ScheduledRequest>): Schedule => ({
      steps: [
        {
          ...race.steps[0]!,
          requests: race.steps[0]!.requests.map((item) => ({ ...item, ...change })),
        },
      ],
    });
    expect(candidates).toContainEqual(withRequests({ lane: 'clean' }));
    expect(candidates).toContainEqual(withRequests({ variant: 'original' }));
    expect(candidates).toContainEqual(withRequests({ tenant: 0 }));
    expect(candidates).toContainEqual(withRequests({ key: 0 }));
    expect(candidates).toContainEqual({ steps: [{ ...race.steps[0], delayMs: 0 }] });
    expect(candidates).not.toContainEqual(race);
    expect(scheduleChoices({ ...shape, lanes: ['lost-response', 'clean'] }).lanes[0]).toBe('clean');
  });

  it('rename tenants and keys in order of first use, keeping which requests share them', () => {
    const sent = (key: number, tenant: number | null): ScheduledRequest => ({
      key,
      tenant,
      variant: 'original',
      lane: 'clean',
    });
    const schedule: Schedule = {
      steps: [{ delayMs: 0, requests: [sent(1, 1), sent(1, null), sent(0, 0)] }],
    };
    const choices = scheduleChoices({ ...shape, lanes: [...shape.lanes] });
    const candidates = simplificationCandidates(schedule, choices);
    expect(candidates).toContainEqual({
      steps: [{ delayMs: 0, requests: [sent(1, 0), sent(1, 1), sent(0, null)] }],
    });
    expect(candidates).toContainEqual({
      steps: [{ delayMs: 0, requests: [sent(0, 1), sent(0, null), sent(1, 0)] }],
    });
  });

  it('read as numbered steps', () => {
    const schedule: Schedule = {
      steps: [
        { delayMs: 0, requests: [{ key: 0, tenant: 1, variant: 'original', lane: 'clean' }] },
        { delayMs: 25, requests: [request(0), request(0, 'different')] },
      ],
    };
    expect(describeSchedule(schedule, ['alice', 'bob'])).toEqual([
      '1. send key A as bob, original payload, clean lane',
      '2. after 25 ms, release 2 requests together: key A, original payload, clean lane | key A, different payload, clean lane',
    ]);
  });
});
