import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  describeSchedule,
  removalCandidates,
  requestCount,
  scheduleArbitrary,
  type Schedule,
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
