import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ASSUMED_SERVICE_MS,
  HEAD_WORK_CEILING_MS,
  MAX_ORIGINS,
  MIN_LEVEL_SAMPLES,
  NEW_CONNECTION_FLOOR_MS,
  PAUSE_SHARES,
  RECHECK_EVERY,
  REUSED_FLOOR_MS,
  SERVICE_SAMPLES,
  SETTLE_CAP_MS,
  SLOWER_FACTOR,
  SLOWER_MARGIN_MS,
  SettleMemory,
  answerSpreadSample,
  asFastAs,
  serviceSample,
  settlePause,
  type SettlePlan,
} from '../../../src/client/settle.js';

describe('settlePause', () => {
  it('uses a fixed setting as given, even below the floors', () => {
    expect(settlePause(0, { count: 16, reused: false, serviceMs: 5 })).toBe(0);
    expect(settlePause(37.5, { count: 2, reused: true, serviceMs: undefined })).toBe(37.5);
  });

  it('covers the burst times the service time above the floor of its connections', () => {
    expect(settlePause('auto', { count: 16, reused: false, serviceMs: 1.5 })).toBe(
      NEW_CONNECTION_FLOOR_MS + 24,
    );
    expect(settlePause('auto', { count: 16, reused: true, serviceMs: 1.5 })).toBe(
      REUSED_FLOOR_MS + 24,
    );
  });

  it('assumes ASSUMED_SERVICE_MS before the target was measured', () => {
    expect(settlePause('auto', { count: 10, reused: false, serviceMs: undefined })).toBe(
      NEW_CONNECTION_FLOOR_MS + 10 * ASSUMED_SERVICE_MS,
    );
  });

  it('counts a slow answer only up to the header-work ceiling', () => {
    expect(settlePause('auto', { count: 16, reused: true, serviceMs: 45 })).toBe(
      REUSED_FLOOR_MS + 16 * HEAD_WORK_CEILING_MS,
    );
    expect(settlePause('auto', { count: 16, reused: true, serviceMs: 45 })).toBe(
      settlePause('auto', { count: 16, reused: true, serviceMs: HEAD_WORK_CEILING_MS }),
    );
  });

  it('never goes below the floors nor above the cap', () => {
    expect(settlePause('auto', { count: 16, reused: true, serviceMs: 0 })).toBe(REUSED_FLOOR_MS);
    expect(settlePause('auto', { count: 16, reused: false, serviceMs: -3 })).toBe(
      NEW_CONNECTION_FLOOR_MS,
    );
    expect(settlePause('auto', { count: 64, reused: false, serviceMs: 80 })).toBeLessThan(
      SETTLE_CAP_MS,
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 64 }),
        fc.boolean(),
        fc.option(fc.double({ min: 0, max: 1e6, noNaN: true }), { nil: undefined }),
        (count, reused, serviceMs) => {
          const pause = settlePause('auto', { count, reused, serviceMs });
          expect(pause).toBeGreaterThanOrEqual(reused ? REUSED_FLOOR_MS : NEW_CONNECTION_FLOOR_MS);
          expect(pause).toBeLessThanOrEqual(SETTLE_CAP_MS);
        },
      ),
    );
  });

  it('waits the given share of the per-request allowance, above the floor', () => {
    expect(settlePause('auto', { count: 16, reused: true, serviceMs: 3, share: 1 / 3 })).toBe(
      REUSED_FLOOR_MS + 16,
    );
    expect(settlePause('auto', { count: 16, reused: false, serviceMs: 45, share: 0 })).toBe(
      NEW_CONNECTION_FLOOR_MS,
    );
    expect(settlePause('auto', { count: 16, reused: true, serviceMs: 2, share: 5 })).toBe(
      settlePause('auto', { count: 16, reused: true, serviceMs: 2 }),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 64 }),
        fc.option(fc.double({ min: 0, max: 1e6, noNaN: true }), { nil: undefined }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (count, serviceMs, share) => {
          const pause = settlePause('auto', { count, reused: true, serviceMs, share });
          expect(pause).toBeGreaterThanOrEqual(REUSED_FLOOR_MS);
          expect(pause).toBeLessThanOrEqual(
            settlePause('auto', { count, reused: true, serviceMs }),
          );
        },
      ),
    );
  });

  it('grows with the burst size and the service time, and is longer on new connections', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 63 }),
        fc.double({ min: 0, max: 20, noNaN: true }),
        fc.double({ min: 0, max: 5, noNaN: true }),
        (count, serviceMs, more) => {
          const base = settlePause('auto', { count, reused: true, serviceMs });
          expect(
            settlePause('auto', { count: count + 1, reused: true, serviceMs }),
          ).toBeGreaterThanOrEqual(base);
          expect(
            settlePause('auto', { count, reused: true, serviceMs: serviceMs + more }),
          ).toBeGreaterThanOrEqual(base);
          expect(settlePause('auto', { count, reused: false, serviceMs })).toBeGreaterThanOrEqual(
            base,
          );
        },
      ),
    );
  });
});

describe('serviceSample', () => {
  it('is the least time from release to a complete answer, failures left out', () => {
    expect(
      serviceSample([
        { releasedAt: 100, answeredAt: 104 },
        { releasedAt: 100.1, answeredAt: 102.6 },
        { releasedAt: 100.2, answeredAt: undefined },
      ]),
    ).toBeCloseTo(2.5, 9);
  });

  it('learns nothing when no request was answered', () => {
    expect(serviceSample([{ releasedAt: 1, answeredAt: undefined }])).toBeUndefined();
    expect(serviceSample([])).toBeUndefined();
  });
});

describe('answerSpreadSample', () => {
  it('is the time from the first complete answer to the last, failures left out', () => {
    expect(
      answerSpreadSample([
        { releasedAt: 100, answeredAt: 109 },
        { releasedAt: 100.1, answeredAt: 102.5 },
        { releasedAt: 100.2, answeredAt: undefined },
        { releasedAt: 100.3, answeredAt: 104 },
      ]),
    ).toBeCloseTo(6.5, 9);
  });

  it('does not move when every answer is late alike (a slow target, not header work)', () => {
    const answers = [3, 3.2, 3.5, 4.1];
    const timings = (delay: number) =>
      answers.map((at) => ({ releasedAt: 0, answeredAt: at + delay }));
    expect(answerSpreadSample(timings(40))).toBeCloseTo(answerSpreadSample(timings(0)) ?? -1, 9);
  });

  it('learns nothing from fewer than two answers', () => {
    expect(answerSpreadSample([{ releasedAt: 1, answeredAt: 5 }])).toBeUndefined();
    expect(
      answerSpreadSample([
        { releasedAt: 1, answeredAt: 5 },
        { releasedAt: 1, answeredAt: undefined },
      ]),
    ).toBeUndefined();
    expect(answerSpreadSample([])).toBeUndefined();
  });
});

describe('SettleMemory', () => {
  it('estimates the median of the last samples, per target', () => {
    const memory = new SettleMemory();
    expect(memory.serviceMs('a:1')).toBeUndefined();
    memory.observe('a:1', 3);
    expect(memory.serviceMs('a:1')).toBe(3);
    memory.observe('a:1', 1);
    expect(memory.serviceMs('a:1')).toBe(2);
    memory.observe('a:1', 50);
    expect(memory.serviceMs('a:1')).toBe(3);
    expect(memory.serviceMs('b:1')).toBeUndefined();
    memory.observe('a:1', undefined);
    memory.observe('a:1', Number.NaN);
    expect(memory.serviceMs('a:1')).toBe(3);
  });

  it(`keeps only the last ${SERVICE_SAMPLES} samples, so it follows a target that changes`, () => {
    const memory = new SettleMemory();
    for (let index = 0; index < SERVICE_SAMPLES; index += 1) memory.observe('a:1', 40);
    for (let index = 0; index < SERVICE_SAMPLES; index += 1) memory.observe('a:1', 1);
    expect(memory.serviceMs('a:1')).toBe(1);
  });

  it(`forgets the least recently observed target beyond ${MAX_ORIGINS}`, () => {
    const memory = new SettleMemory();
    for (let index = 0; index <= MAX_ORIGINS; index += 1) memory.observe(`host:${index}`, 2);
    expect(memory.serviceMs('host:0')).toBeUndefined();
    expect(memory.serviceMs(`host:${MAX_ORIGINS}`)).toBe(2);
    expect(memory.serviceMs('host:1')).toBe(2);
  });
});

/**
 * Plans a burst to `origin` and observes it: answered first in 3 ms, with the answers spread
 * over `spreadMs(level)`; returns the plan.
 */
function burst(
  memory: SettleMemory,
  origin: string,
  spreadMs: (level: number) => number | undefined,
): SettlePlan {
  const plan = memory.plan(origin);
  memory.observe(origin, 3, plan.level, spreadMs(plan.level));
  return plan;
}

describe('SettleMemory levels', () => {
  it('starts at the full pause, sized by the reference service time', () => {
    const memory = new SettleMemory();
    const first = memory.plan('a:1');
    expect(first).toEqual({ level: 0, share: 1, serviceMs: undefined });
    memory.observe('a:1', 4, first.level);
    expect(memory.plan('a:1')).toEqual({ level: 0, share: 1, serviceMs: 4 });
  });

  it('keeps the full pause until the reference has its samples', () => {
    const memory = new SettleMemory();
    const levels = Array.from({ length: MIN_LEVEL_SAMPLES }, () =>
      burst(memory, 'a:1', () => 5),
    ).map((plan) => plan.level);
    expect(levels).toEqual(levels.map(() => 0));
    // Then the next level is tried in turns with level 0, which keeps the reference fresh.
    const next = Array.from({ length: 2 * MIN_LEVEL_SAMPLES }, () => burst(memory, 'a:1', () => 5));
    expect(next.map((plan) => plan.level)).toEqual(
      next.map((_, index) => (index % 2 === 0 ? 0 : 1)),
    );
  });

  it('judges a level against reference samples taken alongside it, past a slow start', () => {
    const memory = new SettleMemory();
    // The target warms up: its first bursts' answers spread over 40 ms, later ones over 5 ms;
    // a pause too short for its headers spreads them over 9 ms.
    let bursts = 0;
    const plans = Array.from({ length: 40 }, () =>
      burst(memory, 'a:1', (level) => (bursts++ < MIN_LEVEL_SAMPLES ? 40 : level === 0 ? 5 : 9)),
    );
    expect(plans.slice(-RECHECK_EVERY).filter((plan) => plan.level === 0).length).toBeGreaterThan(
      RECHECK_EVERY - 2,
    );
  });

  it('goes down to the floor against a target whose answers do not depend on the pause', () => {
    const memory = new SettleMemory();
    // A slow database: answers spread over 15 ms, whatever the pause.
    const plans = Array.from({ length: 30 }, () => burst(memory, 'a:1', () => 15));
    const last = PAUSE_SHARES.length - 1;
    expect(plans.some((plan) => plan.level === last)).toBe(true);
    expect(plans.at(-1)?.share).toBe(PAUSE_SHARES[last]);
    // Every level was judged before the next was tried.
    const firstAt = PAUSE_SHARES.map((_, level) => plans.findIndex((plan) => plan.level === level));
    expect(firstAt).toEqual([...firstAt].sort((a, b) => a - b));
  });

  it('keeps the full pause against a target whose answers wait on header work left over', () => {
    const memory = new SettleMemory();
    // Header work the full pause covers: a shorter one leaves 10 ms of it at the release.
    const plans = Array.from({ length: 4 * RECHECK_EVERY }, () =>
      burst(memory, 'a:1', (level) => (level === 0 ? 2.5 : 12.5)),
    );
    const tries = plans.filter((plan) => plan.level > 0);
    expect(tries.every((plan) => plan.level === 1)).toBe(true);
    // Tried until judged, then now and then: most bursts keep the full pause.
    expect(tries.length).toBeGreaterThanOrEqual(MIN_LEVEL_SAMPLES);
    expect(tries.length).toBeLessThanOrEqual(MIN_LEVEL_SAMPLES + 4);
    expect(plans.slice(-RECHECK_EVERY).filter((plan) => plan.level === 0).length).toBeGreaterThan(
      RECHECK_EVERY - 2,
    );
  });

  it('stops at the shortest level still as fast as the full pause', () => {
    const memory = new SettleMemory();
    const plans = Array.from({ length: 60 }, () =>
      burst(memory, 'a:1', (level) => (level <= 1 ? 3 : 20)),
    );
    const settled = plans.slice(-RECHECK_EVERY);
    expect(settled.filter((plan) => plan.level === 1).length).toBeGreaterThan(RECHECK_EVERY / 2);
    expect(settled.every((plan) => plan.level <= 2)).toBe(true);
  });

  it('refreshes the reference every RECHECK_EVERY bursts, and goes back up when it changes', () => {
    const memory = new SettleMemory();
    let headerWork = false;
    const plans: SettlePlan[] = [];
    for (let index = 0; index < 120; index += 1) {
      if (index === 40) headerWork = true;
      plans.push(burst(memory, 'a:1', (level) => (headerWork && level > 0 ? 30 : 3)));
    }
    expect(plans.slice(20, 40).filter((plan) => plan.level === 0).length).toBeGreaterThan(0);
    expect(plans.slice(20, 40).some((plan) => plan.level === PAUSE_SHARES.length - 1)).toBe(true);
    // Once shorter pauses answer slower, they lose their samples' majority and are left.
    expect(plans.slice(-RECHECK_EVERY).filter((plan) => plan.level === 0).length).toBeGreaterThan(
      RECHECK_EVERY - 2,
    );
  });

  it('lets no more than MIN_LEVEL_SAMPLES concurrent bursts try an unjudged level', () => {
    const memory = new SettleMemory();
    for (let index = 0; index < MIN_LEVEL_SAMPLES; index += 1) burst(memory, 'a:1', () => 3);
    // Eight bursts planned before any of them is answered.
    const plans = Array.from({ length: 8 }, () => memory.plan('a:1'));
    expect(plans.filter((plan) => plan.level === 1)).toHaveLength(MIN_LEVEL_SAMPLES);
    expect(plans.filter((plan) => plan.level === 0)).toHaveLength(8 - MIN_LEVEL_SAMPLES);
  });

  it('keeps samples per level: shorter levels do not move the reference', () => {
    const memory = new SettleMemory();
    memory.observe('a:1', 2, 0);
    memory.observe('a:1', 40, 1);
    memory.observe('a:1', 40, 2);
    expect(memory.serviceMs('a:1')).toBe(2);
    memory.observe('a:1', 1, 9);
    expect(memory.serviceMs('a:1')).toBe(2);
  });

  it('judges a level as fast within the factor and margin', () => {
    expect(asFastAs(10 * SLOWER_FACTOR + SLOWER_MARGIN_MS, 10)).toBe(true);
    expect(asFastAs(10 * SLOWER_FACTOR + SLOWER_MARGIN_MS + 0.01, 10)).toBe(false);
    expect(asFastAs(0, 10)).toBe(true);
  });

  it('always plans a level of PAUSE_SHARES, whatever it observes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.option(fc.double({ min: 0, max: 1e4, noNaN: true }), { nil: undefined }), {
          maxLength: 80,
        }),
        (samples) => {
          const memory = new SettleMemory();
          for (const sample of samples) {
            const plan = burst(memory, 'a:1', () => sample);
            expect(PAUSE_SHARES[plan.level]).toBe(plan.share);
          }
        },
      ),
    );
  });
});
